"""Batches a step's output lines into the job's log as they come.

One write per batch rather than per line: a chatty command writes a few transactions a second,
not thousands.
"""

import asyncio
import contextlib
from types import TracebackType

from server.domain.enums import LogStream
from server.services.execution import ExecutionService

FLUSH_SECONDS = 0.1


class LogSink:
    def __init__(self, execution: ExecutionService, *, tenant: str, number: int) -> None:
        self._execution = execution
        self._tenant = tenant
        self._number = number
        self._pending: list[tuple[LogStream, str]] = []
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    def write(self, stream: LogStream, message: str) -> None:
        self._pending.append((stream, message))
        self._wake.set()

    async def __aenter__(self) -> "LogSink":
        self._flusher = asyncio.create_task(self._flush_forever())
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        # Not cancelled: a flush cut off halfway would lose the lines it had taken.
        self._closing.set()
        self._wake.set()
        if self._flusher is not None:
            await self._flusher
        await self.flush()

    async def flush(self) -> None:
        lines, self._pending = self._pending, []
        await self._execution.append_logs(tenant=self._tenant, number=self._number, lines=lines)

    async def _flush_forever(self) -> None:
        while not self._closing.is_set():
            await self._wake.wait()
            self._wake.clear()
            await self.flush()
            # Gather lines for a moment before the next write, unless the step is over.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), FLUSH_SECONDS)

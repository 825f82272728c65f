"""Batches a step's output lines into the job's log as they come, within bounded memory.

One write per batch rather than per line: a chatty command writes a few transactions a second,
not thousands. A command that writes faster than the lines can be stored, or more lines than
an attempt may keep, has the excess dropped and counted, and a SYSTEM line says how many.
"""

import asyncio
import contextlib
from collections import deque
from types import TracebackType

from server.domain.enums import LogStream
from server.services.execution import ExecutionService

FLUSH_SECONDS = 0.1
# Lines waiting for the next write; beyond, lines are dropped (and counted).
MAX_PENDING_LINES = 2_000
# Lines one attempt of a step keeps in the log.
MAX_LINES_PER_ATTEMPT = 10_000
# `errorDetail`: the last STDERR lines of a failed attempt, each cut to this length.
ERROR_DETAIL_LINES = 20
ERROR_DETAIL_CHARS = 500


class LogSink:
    def __init__(
        self,
        execution: ExecutionService,
        *,
        tenant: str,
        number: int,
        step: int | None = None,
        attempt: int | None = None,
    ) -> None:
        self._execution = execution
        self._tenant = tenant
        self._number = number
        self._step = step
        self._attempt = attempt
        self._pending: list[tuple[LogStream, str]] = []
        self._kept = 0
        self._dropped = 0
        self._stderr_tail: deque[str] = deque(maxlen=ERROR_DETAIL_LINES)
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    def write(self, stream: LogStream, message: str) -> None:
        """A line of the command's output."""
        if stream is LogStream.STDERR:
            self._stderr_tail.append(message[:ERROR_DETAIL_CHARS])
        if self._kept >= MAX_LINES_PER_ATTEMPT or len(self._pending) >= MAX_PENDING_LINES:
            self._dropped += 1
            return
        self._kept += 1
        self.note(stream, message)

    def note(self, stream: LogStream, message: str) -> None:
        """A line of the agent's own: never dropped."""
        self._pending.append((stream, message))
        self._wake.set()

    @property
    def error_detail(self) -> str | None:
        """The last STDERR lines written (up to 20, each cut at 500 characters)."""
        return "\n".join(self._stderr_tail) if self._stderr_tail else None

    async def __aenter__(self) -> "LogSink":
        self._flusher = asyncio.create_task(self._flush_forever())
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        """Lines not taken by `close` are written now."""
        self._pending = await self.close()
        await self.flush()

    async def close(self) -> list[tuple[LogStream, str]]:
        """Stop writing; the lines not written yet (and what was dropped, counted), for the
        caller to write with the attempt's end, in one transaction."""
        # Not cancelled: a flush cut off halfway would lose the lines it had taken.
        self._closing.set()
        self._wake.set()
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        if self._dropped:
            self.note(
                LogStream.SYSTEM,
                f"{self._dropped} lines dropped: the step wrote more than {MAX_LINES_PER_ATTEMPT} "
                "lines, or faster than they could be stored",
            )
            self._dropped = 0
        rest, self._pending = self._pending, []
        return rest

    async def flush(self) -> None:
        lines, self._pending = self._pending, []
        await self._execution.append_logs(
            tenant=self._tenant,
            number=self._number,
            lines=lines,
            step=self._step,
            attempt=self._attempt,
        )

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            # Gather lines for a moment before writing; a step over by then has them written
            # once, by the exit (a quick step costs one write, not one per line or per moment).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), FLUSH_SECONDS)
            if self._closing.is_set():
                return
            self._wake.clear()
            await self.flush()

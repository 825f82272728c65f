"""The phases of runs, built from their histories and shared by every request of the process.

A closed run's history never changes, so its phases are kept (bounded, least recently used
evicted first); an open run's are rebuilt once they are `open_ttl` old. Reads run at most
`concurrency` at a time, and a run already being read is not read twice; a read that waits
for its turn and Temporal longer than `timeout` gives up (TemporalUnreachable).
"""

import asyncio
from datetime import UTC, datetime

from server.timeline.phases import Phase, build_phases
from server.timeline.runs import RunSummary

from .cache import ExpiringLru
from .futures import mark_retrieved
from .gateway import TemporalGateway, TemporalUnreachable

RunKey = tuple[str, str]


class HistorySource:
    def __init__(
        self,
        gateway: TemporalGateway,
        *,
        concurrency: int,
        timeout: float,
        open_ttl: float,
        max_entries: int,
    ) -> None:
        self._gateway = gateway
        self._timeout = timeout
        self._open_ttl = open_ttl
        self._slots = asyncio.Semaphore(concurrency)
        self._cache: ExpiringLru[RunKey, list[Phase]] = ExpiringLru(max_entries)
        self._in_flight: dict[RunKey, asyncio.Task[list[Phase]]] = {}

    async def phases(self, run: RunSummary) -> list[Phase]:
        """Raises TemporalUnreachable or HistoryGone."""
        key = (run.workflow_id, run.run_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.create_task(self._read(key, run))
            task.add_done_callback(mark_retrieved)
            self._in_flight[key] = task
        # Shielded: a caller that gives up must not cancel what others wait for too.
        return await asyncio.shield(task)

    async def _read(self, key: RunKey, run: RunSummary) -> list[Phase]:
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                history = await self._gateway.run_history(run)
            phases = build_phases(history.events, history.pending, now=datetime.now(UTC))
            self._cache.put(key, phases, ttl=None if run.closed else self._open_ttl)
            return phases
        except TimeoutError:
            raise TemporalUnreachable(f"no history within {self._timeout} s") from None
        finally:
            del self._in_flight[key]

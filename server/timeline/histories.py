"""The phases of runs, built from their histories and shared by every request of the process.

A closed run's history never changes, so its phases are kept (bounded, least recently used
evicted first); an open run's are rebuilt once they are `open_ttl` old, with the activities in
flight that DescribeWorkflowExecution reports (the describe the run's summary shares). Reads
run at most `concurrency` at a time, and a run already being read is not read twice; a read
that waits for its turn and Temporal longer than `timeout` gives up (TemporalUnreachable).
"""

import asyncio
from datetime import UTC, datetime

from server.timeline.phases import Phase, build_phases
from server.timeline.runs import RunSummary

from .describes import DescribeSource
from .gateway import TemporalGateway, TemporalUnreachable
from .shared import SharedReads


class HistorySource:
    def __init__(
        self,
        gateway: TemporalGateway,
        describes: DescribeSource,
        *,
        concurrency: int,
        timeout: float,
        open_ttl: float,
        max_entries: int,
    ) -> None:
        self._gateway = gateway
        self._describes = describes
        self._timeout = timeout
        self._open_ttl = open_ttl
        self._slots = asyncio.Semaphore(concurrency)
        self._reads: SharedReads[tuple[str, str, bool], list[Phase]] = SharedReads(
            name="timelines", max_entries=max_entries
        )

    async def phases(self, run: RunSummary) -> list[Phase]:
        """Raises TemporalUnreachable or HistoryGone."""
        return await self._reads.get(
            (run.workflow_id, run.run_id, run.closed),
            lambda: self._read(run),
            ttl=None if run.closed else self._open_ttl,
        )

    async def _read(self, run: RunSummary) -> list[Phase]:
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                if run.closed:
                    events, pending = await self._gateway.events(run), []
                else:
                    events, described = await asyncio.gather(
                        self._gateway.events(run), self._describes.describe(run)
                    )
                    pending = described.pending
        except TimeoutError:
            raise TemporalUnreachable(f"no history within {self._timeout} s") from None
        return build_phases(events, pending, now=datetime.now(UTC))

"""What DescribeWorkflowExecution says about runs, shared by every request of the process.

It counts an open run's history (visibility does only once the run has closed) and lists its
activities in flight: a job's detail shows the first, its phases use the second, and both
share one call. A run being described is not described twice at once; an answer about an open
run is reused for `open_ttl`, one about a closed run until evicted.
"""

from server.timeline.runs import RunSummary

from .gateway import Described, TemporalGateway
from .shared import SharedReads


class DescribeSource:
    def __init__(self, gateway: TemporalGateway, *, open_ttl: float, max_entries: int) -> None:
        self._gateway = gateway
        self._open_ttl = open_ttl
        self._reads: SharedReads[tuple[str, str], Described] = SharedReads(
            name="describes", max_entries=max_entries
        )

    async def describe(self, run: RunSummary) -> Described:
        """Raises TemporalUnreachable or HistoryGone."""
        return await self._reads.get(
            (run.workflow_id, run.run_id),
            lambda: self._gateway.describe(run.workflow_id, run.run_id),
            ttl=None if run.closed else self._open_ttl,
        )

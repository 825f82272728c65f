"""Run summaries shared by every request of the process.

Lookups that arrive within a short window share one visibility call; a workflow id already
being fetched is not fetched again (single-flight); what is known is cached, closed runs until
evicted and open runs (and ids Temporal does not know yet) for a short TTL; and the calls keep
to a rate budget. Visibility is eventually consistent: the database stays the authority for a
job's status, and what is read here is only shown and compared.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from server.observability.metrics import TEMPORAL_CACHE
from server.timeline.runs import RunSummary, latest

from .budget import RateBudget
from .cache import ExpiringLru, mark_retrieved
from .gateway import TemporalGateway


@dataclass(frozen=True)
class NotFound:
    """Temporal has no run of the workflow id (yet: it may start later)."""


NOT_FOUND = NotFound()
Lookup = RunSummary | NotFound


class SummarySource:
    def __init__(
        self,
        gateway: TemporalGateway,
        budget: RateBudget,
        *,
        window: float,
        open_ttl: float,
        max_entries: int,
    ) -> None:
        self._gateway = gateway
        self._budget = budget
        self._window = window
        self._open_ttl = open_ttl
        self._cache: ExpiringLru[str, Lookup] = ExpiringLru(max_entries)
        self._waiting: dict[str, asyncio.Future[Lookup]] = {}
        self._in_flight: dict[str, asyncio.Future[Lookup]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def lookup(self, workflow_ids: Sequence[str]) -> dict[str, Lookup | BaseException]:
        """What Temporal says about each id, or the error (TemporalUnreachable) that kept it from
        saying: ids cached before an outage are still answered."""
        found: dict[str, Lookup | BaseException] = {}
        futures: dict[str, asyncio.Future[Lookup]] = {}
        for workflow_id in workflow_ids:
            cached = self._cache.get(workflow_id)
            TEMPORAL_CACHE.labels("runs", "miss" if cached is None else "hit").inc()
            if cached is not None:
                found[workflow_id] = cached
            else:
                futures[workflow_id] = self._future(workflow_id)
        if futures:
            # Shielded: a caller that gives up must not cancel what others wait for too.
            results = await asyncio.shield(
                asyncio.gather(*futures.values(), return_exceptions=True)
            )
            found.update(zip(futures, results, strict=True))
        return found

    def _future(self, workflow_id: str) -> asyncio.Future[Lookup]:
        future = self._in_flight.get(workflow_id) or self._waiting.get(workflow_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(mark_retrieved)
            self._waiting[workflow_id] = future
            if self._flush is None:
                self._flush = asyncio.create_task(self._flush_soon())
        return future

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._window)
        # Who arrives while the budget is waited for joins this call.
        await self._budget.acquire()
        batch, self._waiting, self._flush = self._waiting, {}, None
        self._in_flight.update(batch)
        try:
            runs = await self._gateway.list_runs(list(batch))
        except Exception as error:
            for future in batch.values():
                future.set_exception(error)
        else:
            by_id: dict[str, list[RunSummary]] = {}
            for run in runs:
                by_id.setdefault(run.workflow_id, []).append(run)
            for workflow_id, future in batch.items():
                result = latest(by_id[workflow_id]) if workflow_id in by_id else NOT_FOUND
                self._remember(workflow_id, result)
                future.set_result(result)
        finally:
            for workflow_id, future in batch.items():
                self._in_flight.pop(workflow_id, None)
                future.cancel()  # only if this task itself was cancelled mid-call

    def _remember(self, workflow_id: str, result: Lookup) -> None:
        closed = isinstance(result, RunSummary) and result.closed
        self._cache.put(workflow_id, result, ttl=None if closed else self._open_ttl)

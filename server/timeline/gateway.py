"""The only place the timeline talks to Temporal: three WorkflowService calls (list, history,
describe), each bounded by the lookup timeout (connecting included) and never retried: a page
must not wait on a Temporal that is down or slow."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import HistoryEventFilterType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryRequest,
    ListWorkflowExecutionsRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode, WorkflowService

from server.observability.metrics import TEMPORAL_CALL_SECONDS, TEMPORAL_HELD_BACK
from server.observability.tracing import span
from server.settings import Settings
from server.temporal.client import connect
from server.timeline.plan import completion_result
from server.timeline.runs import RunSummary

IDENTITY = "jobmonitor-timeline"
# Query text stays far below the frontend's limits; more ids take one call per chunk.
CHUNK = 200
_CONNECT_FAILED = "Failed client connect"
# After Temporal failed to answer, lookups answer "unreachable" at once for this long rather
# than each waiting out the timeout again.
QUIET_SECONDS = 2.0
T = TypeVar("T")


class TemporalUnreachable(Exception):
    """Temporal did not answer (down, refusing, or an error on its side)."""


class HistoryGone(Exception):
    """Temporal has no history for the run (it was never there, or retention removed it)."""


@dataclass(frozen=True)
class Described:
    """What DescribeWorkflowExecution says: the run, its history counted even while it is
    open, and the activities it has in flight."""

    run: RunSummary
    pending: list[PendingActivityInfo]


class TemporalGateway:
    """Connects on first use, so building it needs no running Temporal. Once Temporal has failed
    to answer, calls fail at once for QUIET_SECONDS (a page during an outage costs nothing)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._namespace = settings.temporal_namespace
        self._timeout = settings.temporal_lookup_timeout
        self._rpc_timeout = timedelta(seconds=self._timeout)
        self._client: Client | None = None
        self._quiet_until = 0.0

    async def list_runs(self, workflow_ids: Sequence[str]) -> list[RunSummary]:
        """Every run of these workflow ids: one ListWorkflowExecutions call per CHUNK ids."""
        runs: list[RunSummary] = []
        for start in range(0, len(workflow_ids), CHUNK):
            runs += await self._list_chunk(workflow_ids[start : start + CHUNK])
        return runs

    async def describe(self, workflow_id: str, run_id: str = "") -> Described:
        """The run, and its activities in flight; without `run_id`, the workflow id's latest
        run."""
        request = DescribeWorkflowExecutionRequest(
            namespace=self._namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        )
        response = await self._rpc(
            "describe",
            lambda service: service.describe_workflow_execution(request, timeout=self._rpc_timeout),
        )
        return Described(
            RunSummary.from_info(response.workflow_execution_info, described=True),
            list(response.pending_activities),
        )

    async def result(self, run: RunSummary) -> str | None:
        """What a completed run returned, if it was a string (one call, for its close event)."""
        request = GetWorkflowExecutionHistoryRequest(
            namespace=self._namespace,
            execution=_execution(run),
            history_event_filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        )
        response = await self._rpc(
            "result",
            lambda service: service.get_workflow_execution_history(
                request, timeout=self._rpc_timeout
            ),
        )
        return completion_result(response.history.events)

    async def wait_closed(self, run: RunSummary, *, within: float) -> None:
        """Return once the run has closed, or after `within` seconds, or when Temporal does
        not answer: one long poll for its close event."""
        request = GetWorkflowExecutionHistoryRequest(
            namespace=self._namespace,
            execution=_execution(run),
            wait_new_event=True,
            history_event_filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        )
        with suppress(TemporalUnreachable, HistoryGone):
            await self._answer(
                lambda service: service.get_workflow_execution_history(
                    request, timeout=timedelta(seconds=within)
                ),
                within=within,
            )

    async def _list_chunk(self, workflow_ids: Sequence[str]) -> list[RunSummary]:
        quoted = ", ".join(_quote(workflow_id) for workflow_id in workflow_ids)
        request = ListWorkflowExecutionsRequest(
            namespace=self._namespace,
            query=f"WorkflowId IN ({quoted})",
            # Room for a second run of each id: a full page would cost an empty second call.
            page_size=2 * len(workflow_ids) + 1,
        )
        runs: list[RunSummary] = []
        while True:
            response = await self._rpc(
                "list",
                lambda service: service.list_workflow_executions(
                    request, timeout=self._rpc_timeout
                ),
            )
            runs += [RunSummary.from_info(info, described=False) for info in response.executions]
            if not response.next_page_token:
                return runs
            request.next_page_token = response.next_page_token

    async def events(self, run: RunSummary) -> list[HistoryEvent]:
        """Every event of the run's history (256 a page)."""
        request = GetWorkflowExecutionHistoryRequest(
            namespace=self._namespace, execution=_execution(run)
        )
        events: list[HistoryEvent] = []
        while True:
            response = await self._rpc(
                "history",
                lambda service: service.get_workflow_execution_history(
                    request, timeout=self._rpc_timeout
                ),
            )
            events += response.history.events
            if not response.next_page_token:
                return events
            request.next_page_token = response.next_page_token

    async def client(self) -> Client:
        """The client every call goes through (connected lazily, on first use)."""
        if self._client is None:
            self._client = await connect(self._settings, identity=IDENTITY, lazy=True)
        return self._client

    async def _rpc(self, name: str, call: Callable[[WorkflowService], Awaitable[T]]) -> T:
        """One call to Temporal, `name`d in the metrics and traces."""
        if time.monotonic() < self._quiet_until:
            TEMPORAL_HELD_BACK.labels("quiet").inc()
            raise TemporalUnreachable("Temporal did not answer a moment ago")
        started = time.perf_counter()
        outcome = "ok"
        with span(f"temporal.{name}", {"temporal.namespace": self._namespace}):
            try:
                return await self._answer(call)
            except TemporalUnreachable:
                outcome = "unreachable"
                self._quiet_until = time.monotonic() + QUIET_SECONDS
                raise
            except HistoryGone:
                outcome = "gone"
                raise
            finally:
                TEMPORAL_CALL_SECONDS.labels(name, outcome).observe(time.perf_counter() - started)

    async def _answer(
        self, call: Callable[[WorkflowService], Awaitable[T]], *, within: float | None = None
    ) -> T:
        client = await self.client()
        timeout = self._timeout if within is None else within
        try:
            # The RPC carries the deadline to the server; this one also bounds connecting.
            async with asyncio.timeout(timeout):
                return await call(client.workflow_service)
        except TimeoutError:
            raise TemporalUnreachable(f"no answer within {timeout} s") from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise HistoryGone(error.message) from None
            raise TemporalUnreachable(error.message) from None
        except RuntimeError as error:
            # A lazy client that cannot connect says so with a RuntimeError.
            if str(error).startswith(_CONNECT_FAILED):
                raise TemporalUnreachable(str(error)) from None
            raise


def _execution(run: RunSummary) -> WorkflowExecution:
    return WorkflowExecution(workflow_id=run.workflow_id, run_id=run.run_id)


def _quote(workflow_id: str) -> str:
    escaped = workflow_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"

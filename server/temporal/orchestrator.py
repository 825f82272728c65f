"""The orchestrator the job service talks to, on Temporal's client."""

from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from server.db.models import pipeline_id
from server.services.orchestrator import JobSignal, NoOrchestrator, Orchestrator
from server.settings import Settings

from .client import connect, not_connected, rpc_errors, unavailable
from .contracts import JOB_WORKFLOW, Decision, JobRef

RPC_TIMEOUT = timedelta(seconds=5)


class TemporalOrchestrator:
    """Connects on first use, so building it needs no running Temporal."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._task_queue = settings.temporal_task_queue
        self._connected: Client | None = None

    async def _client(self) -> Client:
        if self._connected is None:
            self._connected = await connect(self._settings, identity="jobmonitor-api", lazy=True)
        return self._connected

    async def start_job(self, *, tenant: str, number: int, start_at: datetime | None) -> str:
        workflow_id = pipeline_id(number)
        delay = start_at - datetime.now(UTC) if start_at is not None else None
        try:
            client = await self._client()
            await client.start_workflow(
                JOB_WORKFLOW,
                JobRef(tenant, number),
                id=workflow_id,
                task_queue=self._task_queue,
                # Never run a job twice: not while it runs, and not after it ended.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                start_delay=delay if delay is not None and delay > timedelta(0) else None,
                static_summary=f"Job #{number}",
                rpc_timeout=RPC_TIMEOUT,
            )
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as error:
            raise unavailable(error.message) from None
        except RuntimeError as error:
            raise not_connected(error) from None
        return workflow_id

    async def signal_job(
        self, workflow_id: str, signal: JobSignal, *, actor: str | None, message: str | None
    ) -> None:
        with rpc_errors():
            handle = (await self._client()).get_workflow_handle(workflow_id)
            await handle.signal(signal.value, Decision(actor, message), rpc_timeout=RPC_TIMEOUT)

    async def cancel_job(self, workflow_id: str, *, actor: str | None, reason: str) -> None:
        with rpc_errors():
            handle = (await self._client()).get_workflow_handle(workflow_id)
            await handle.cancel(reason=f"{actor or 'anonymous'}: {reason}", rpc_timeout=RPC_TIMEOUT)


def create_orchestrator(settings: Settings) -> Orchestrator:
    """Temporal when an address is configured; otherwise starts wait in the outbox."""
    if settings.temporal_address is None:
        return NoOrchestrator()
    return TemporalOrchestrator(settings)

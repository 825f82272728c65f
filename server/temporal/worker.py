"""The control-plane worker: the job workflow, the control activities and the outbox dispatcher."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client
from temporalio.worker import Worker

from server.runtime import Runtime
from server.services.execution import ExecutionService

from .control_activities import ControlActivities
from .job_workflow import JobWorkflow


def control_worker(client: Client, runtime: Runtime) -> Worker:
    task_queue = runtime.settings.temporal_task_queue
    execution = ExecutionService(runtime.session_factory, runtime.bus)
    activities = ControlActivities(execution, task_queue=task_queue)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[JobWorkflow],
        activities=[
            activities.init_job,
            activities.open_gate,
            activities.close_gate,
            activities.teardown,
        ],
    )


@asynccontextmanager
async def running_worker(
    client: Client, runtime: Runtime, *, outbox: bool = True, outbox_tenant: str | None = None
) -> AsyncIterator[Worker]:
    """The worker polling, and the outbox (of one tenant, or all) delivered every few seconds,
    until the block ends."""
    async with control_worker(client, runtime) as worker, _outbox(runtime, outbox, outbox_tenant):
        yield worker


@asynccontextmanager
async def _outbox(runtime: Runtime, enabled: bool, tenant: str | None) -> AsyncIterator[None]:
    if not enabled:
        yield
        return
    interval = runtime.settings.outbox_interval_seconds
    stop = asyncio.Event()
    delivering = asyncio.create_task(runtime.jobs.outbox.run(interval, stop=stop, tenant=tenant))
    try:
        yield
    finally:
        stop.set()
        await delivering

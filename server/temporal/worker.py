"""The control-plane worker: the job workflow, the control activities and the outbox dispatcher."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from server.services.execution import ExecutionService
from server.services.outbox import OutboxDispatcher

from .control_activities import ControlActivities
from .job_workflow import JobWorkflow


def control_worker(
    client: Client, execution: ExecutionService, *, task_queue: str, shutdown_grace: timedelta
) -> Worker:
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
        # On stop, polling ends at once and running activities get the grace to finish.
        graceful_shutdown_timeout=shutdown_grace,
    )


@asynccontextmanager
async def running_worker(
    client: Client,
    execution: ExecutionService,
    *,
    task_queue: str,
    outbox: OutboxDispatcher | None,
    outbox_interval: float,
    outbox_tenant: str | None = None,
    shutdown_grace: timedelta = timedelta(seconds=5),
) -> AsyncIterator[Worker]:
    """The worker polling, and the outbox (of one tenant, or all) delivered every
    `outbox_interval` seconds, until the block ends."""
    async with (
        control_worker(
            client, execution, task_queue=task_queue, shutdown_grace=shutdown_grace
        ) as worker,
        _delivering(outbox, outbox_interval, outbox_tenant),
    ):
        yield worker


@asynccontextmanager
async def _delivering(
    outbox: OutboxDispatcher | None, interval: float, tenant: str | None
) -> AsyncIterator[None]:
    if outbox is None:
        yield
        return
    stop = asyncio.Event()
    delivering = asyncio.create_task(outbox.run(interval, stop=stop, tenant=tenant))
    try:
        yield
    finally:
        stop.set()
        await delivering

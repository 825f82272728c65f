"""The control-plane worker: the job workflow and the scheduled runs, their activities, and the
outbox dispatcher."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from server.services.execution import ExecutionService
from server.services.outbox import OutboxDispatcher
from server.services.queue import QueueService
from server.services.schedules import ScheduleService

from .control_activities import ControlActivities
from .job_workflow import JobWorkflow
from .schedule_activities import ScheduleActivities
from .scheduled_workflow import ScheduledJobWorkflow
from .waker import JobWaker


def control_worker(
    client: Client,
    execution: ExecutionService,
    queue: QueueService,
    schedules: ScheduleService,
    *,
    task_queue: str,
    heartbeat_timeout_seconds: float,
    shutdown_grace: timedelta,
) -> Worker:
    activities = ControlActivities(
        execution,
        queue,
        JobWaker(client, base_task_queue=task_queue),
        heartbeat_timeout_seconds=heartbeat_timeout_seconds,
    )
    scheduled = ScheduleActivities(schedules)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[JobWorkflow, ScheduledJobWorkflow],
        activities=[*activities.all(), scheduled.start_scheduled_job],
        # On stop, polling ends at once and running activities get the grace to finish.
        graceful_shutdown_timeout=shutdown_grace,
    )


@asynccontextmanager
async def running_worker(
    client: Client,
    execution: ExecutionService,
    queue: QueueService,
    schedules: ScheduleService,
    *,
    task_queue: str,
    heartbeat_timeout_seconds: float,
    outbox: OutboxDispatcher | None,
    outbox_interval: float,
    outbox_tenant: str | None = None,
    shutdown_grace: timedelta = timedelta(seconds=5),
) -> AsyncIterator[Worker]:
    """The worker polling, and the outbox (of one tenant, or all) delivered every
    `outbox_interval` seconds, until the block ends."""
    worker = control_worker(
        client,
        execution,
        queue,
        schedules,
        task_queue=task_queue,
        heartbeat_timeout_seconds=heartbeat_timeout_seconds,
        shutdown_grace=shutdown_grace,
    )
    async with worker, _delivering(outbox, outbox_interval, outbox_tenant):
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

"""`jobmonitor dev --demo`: sample jobs dispatched every few seconds, and the ones waiting for
approval decided after a while, so every status keeps showing up on the page."""

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.db.models import Job, JobEvent
from server.domain.dispatch import DispatchRequest
from server.domain.enums import JobStatus
from server.domain.errors import DomainError
from server.runtime import Runtime

log = logging.getLogger(__name__)
ACTOR = "demo"
INTERVAL_SECONDS = 4.0
DECIDE_AFTER = timedelta(seconds=20)
APPROVED_SHARE = 0.75
# Every example, so the page shows every status.
SAMPLES = (
    DispatchRequest(workflow="hello", input={"name": "demo"}),
    DispatchRequest(workflow="slow-steps"),
    DispatchRequest(workflow="flaky-then-fail"),
    DispatchRequest(workflow="wait-for-approval"),
    DispatchRequest(
        workflow="se-rca-fix",
        ticket_url="https://tickets.example/browse/OPS-42",
        input={"ticket_url": "https://tickets.example/browse/OPS-42"},
    ),
)


@asynccontextmanager
async def running_demo(runtime: Runtime, tenant: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(_until_stopped(runtime, tenant, stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _until_stopped(runtime: Runtime, tenant: str, stop: asyncio.Event) -> None:
    chooser = random.Random(1)
    while not stop.is_set():
        request = chooser.choice(SAMPLES)
        await _warn_on_error(runtime.jobs.dispatch(tenant=tenant, request=request, actor=ACTOR))
        approve = chooser.random() < APPROVED_SHARE
        await _warn_on_error(_decide_one(runtime, tenant, approve=approve))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL_SECONDS)


async def _warn_on_error(action: Awaitable[object]) -> None:
    """The demo goes on when one of its actions is refused (say, a job someone else moved)."""
    try:
        await action
    except DomainError as error:
        log.warning("demo: %s", error.message)


async def _decide_one(runtime: Runtime, tenant: str, *, approve: bool) -> None:
    """Approve (or reject) the job that has waited longest, once it has waited a while."""
    async with runtime.session_factory() as session:
        number = await session.scalar(
            select(Job.number)
            .join(JobEvent, JobEvent.job_number == Job.number)
            .where(
                Job.tenant_id == tenant,
                Job.status == JobStatus.WAITING,
                JobEvent.to_status == JobStatus.WAITING,
                JobEvent.at < datetime.now(UTC) - DECIDE_AFTER,
            )
            .order_by(Job.number)
            .limit(1)
        )
    if number is None:
        return
    if approve:
        await runtime.jobs.approve(tenant=tenant, number=number, actor=ACTOR, comment="demo")
    else:
        await runtime.jobs.reject(tenant=tenant, number=number, actor=ACTOR, reason="demo")

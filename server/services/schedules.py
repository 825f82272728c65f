"""Schedules: recurring jobs whose timing lives in the orchestrator's own Schedules.

Creating one asks the orchestrator first and writes the row only once it said yes, so an
unreachable Temporal leaves nothing behind (and a failed write takes the schedule back out).
Each run of a schedule asks `start_run` for its job; the run then runs that job as its child,
so the orchestrator's overlap policy sees the job itself.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, Job, Schedule, Workflow
from server.domain.dispatch import DispatchRequest
from server.domain.errors import InvalidArgument, NotFound, OrchestratorUnavailable
from server.domain.schedules import ScheduleRequest
from server.reads import schedules as reads
from server.reads.jobs import workflow_ids_for

from .jobs import JobService
from .new_jobs import validate_input
from .orchestrator import Scheduler, ScheduleTiming, WorkflowGone

KEY_PREFIX = "jobmonitor-schedule-"
TRIGGER_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class OneSidedSchedule:
    """A schedule that Temporal or the database has, but not both."""

    key: str
    schedule_id: int | None
    """The row's id; None when only Temporal has the schedule."""

    def line(self) -> str:
        if self.schedule_id is None:
            return f"schedule [{self.key}]: in Temporal only (no row in the database)"
        return f"schedule #{self.schedule_id} [{self.key}]: in the database only (not in Temporal)"


class ScheduleNotFound(NotFound):
    """A run names a schedule that has no row (yet, or any more)."""


class ScheduleService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        scheduler: Scheduler,
        jobs: JobService,
        *,
        trigger_timeout: float = 8.0,
    ) -> None:
        self._session_factory = session_factory
        self._scheduler = scheduler
        self._jobs = jobs
        self._trigger_timeout = trigger_timeout

    async def create(self, *, tenant: str, request: ScheduleRequest) -> Schedule:
        request.check_timing()
        async with self._session_factory() as session:
            workflow = await _workflow(session, tenant, request.workflow)
            validate_input(request.input, workflow.input_schema)
            await _check_agent(session, tenant, request.agent)
        row = Schedule(
            tenant_id=tenant,
            temporal_id=f"{KEY_PREFIX}{uuid.uuid4().hex}",
            workflow_id=workflow.id,
            cron=request.cron,
            interval_seconds=request.interval_seconds,
            timezone=request.resolved_timezone,
            input=request.input,
            agent=request.agent,
            effort_level=request.effort_level,
            overlap=request.overlap,
            paused=request.paused,
            created_at=datetime.now(UTC),
        )
        await self._scheduler.create_schedule(_timing(row))
        try:
            async with self._session_factory() as session, session.begin():
                session.add(row)
        except BaseException:
            with contextlib.suppress(OrchestratorUnavailable):
                await self._scheduler.delete_schedule(row.temporal_id)
            raise
        return row

    async def pause(self, *, tenant: str, schedule_id: int, note: str | None) -> Schedule:
        row = await self.get(tenant=tenant, schedule_id=schedule_id)
        await _known(self._scheduler.pause_schedule(row.temporal_id, note=note), row)
        return await self._update(tenant, schedule_id, paused=True, note=note)

    async def resume(self, *, tenant: str, schedule_id: int) -> Schedule:
        row = await self.get(tenant=tenant, schedule_id=schedule_id)
        await _known(self._scheduler.resume_schedule(row.temporal_id), row)
        return await self._update(tenant, schedule_id, paused=False, note=None)

    async def delete(self, *, tenant: str, schedule_id: int) -> Schedule:
        """Out of Temporal first (so no run starts after the row is gone), then the row; the
        jobs it made stay, and keep its number."""
        row = await self.get(tenant=tenant, schedule_id=schedule_id)
        await self._scheduler.delete_schedule(row.temporal_id)
        async with self._session_factory() as session, session.begin():
            found = await session.get(Schedule, schedule_id)
            if found is not None:
                await session.delete(found)
        return row

    async def trigger(self, *, tenant: str, schedule_id: int) -> Job:
        """One run now (whatever runs already); answers with the job the run made."""
        row = await self.get(tenant=tenant, schedule_id=schedule_id)
        async with self._session_factory() as session:
            newest = await reads.newest_job(session, schedule_id=schedule_id)
        await _next_second_after(newest)
        await _known(self._scheduler.trigger_schedule(row.temporal_id), row)
        try:
            async with asyncio.timeout(self._trigger_timeout):
                while True:
                    async with self._session_factory() as session:
                        job = await reads.job_of_schedule_after(
                            session,
                            schedule_id=schedule_id,
                            after=newest.number if newest is not None else 0,
                        )
                    if job is not None:
                        return job
                    await asyncio.sleep(TRIGGER_POLL_SECONDS)
        except TimeoutError:
            raise OrchestratorUnavailable(
                f"schedule #{schedule_id} was triggered but no run started within "
                f"{self._trigger_timeout:g} s: is the worker running?",
                field="id",
            ) from None

    async def next_run_times(self, *, key: str, count: int) -> list[datetime]:
        if not 0 <= count <= 10:
            raise InvalidArgument(f"`count` must be between 0 and 10 (got {count})", field="count")
        if count == 0:
            return []
        try:
            times = await self._scheduler.next_run_times(key, count=count)
        except WorkflowGone:
            return []
        return times[:count]

    async def start_run(self, *, tenant: str, key: str, run_id: str) -> Job:
        """The job of one run (the same job however often the run asks)."""
        async with self._session_factory() as session:
            row = await session.scalar(
                select(Schedule).where(Schedule.tenant_id == tenant, Schedule.temporal_id == key)
            )
            if row is None:
                raise ScheduleNotFound(f"no schedule has the key {key!r}", field="id")
            workflow = await session.get_one(Workflow, row.workflow_id)
        request = DispatchRequest(
            workflow=workflow.slug,
            agent=row.agent,
            effort_level=row.effort_level,
            input=dict(row.input or {}),
        )
        return await self._jobs.dispatch_scheduled(
            tenant=tenant, request=request, schedule_id=row.id, run_id=run_id
        )

    async def one_sided(self, *, tenant: str) -> list[OneSidedSchedule]:
        """The tenant's schedules that only one side holds. Temporal's list may lag behind a
        schedule just made, so a row missing from it is looked up before it is reported."""
        in_temporal = await self._scheduler.schedule_keys(tenant=tenant)
        async with self._session_factory() as session:
            rows = list(
                await session.execute(
                    select(Schedule.temporal_id, Schedule.id)
                    .where(Schedule.tenant_id == tenant)
                    .order_by(Schedule.id)
                )
            )
        found = [
            OneSidedSchedule(key, schedule_id)
            for key, schedule_id in rows
            if key not in in_temporal and not await self._scheduler.has_schedule(key)
        ]
        in_database = {key for key, _id in rows}
        return found + [OneSidedSchedule(key, None) for key in sorted(in_temporal - in_database)]

    async def get(self, *, tenant: str, schedule_id: int) -> Schedule:
        async with self._session_factory() as session:
            row = await session.scalar(
                select(Schedule).where(Schedule.tenant_id == tenant, Schedule.id == schedule_id)
            )
        if row is None:
            raise NotFound(f"schedule #{schedule_id} does not exist", field="id")
        return row

    async def _update(
        self, tenant: str, schedule_id: int, *, paused: bool, note: str | None
    ) -> Schedule:
        async with self._session_factory() as session, session.begin():
            row = await session.scalar(
                select(Schedule).where(Schedule.tenant_id == tenant, Schedule.id == schedule_id)
            )
            if row is None:
                raise NotFound(f"schedule #{schedule_id} does not exist", field="id")
            row.paused = paused
            row.note = note
        return row


async def _next_second_after(newest: Job | None) -> None:
    """Temporal names a run by its schedule and the second it was due, and drops a second run
    of the same name: a run made in this very second is let through to the next one first."""
    now = datetime.now(UTC)
    if newest is not None and newest.created_at.replace(microsecond=0) >= now.replace(
        microsecond=0
    ):
        await asyncio.sleep(1 - now.microsecond / 1_000_000)


def _timing(row: Schedule) -> ScheduleTiming:
    return ScheduleTiming(
        key=row.temporal_id,
        tenant=row.tenant_id,
        cron=row.cron,
        interval_seconds=row.interval_seconds,
        timezone=row.timezone,
        overlap=row.overlap,
        paused=row.paused,
    )


async def _known(call: Awaitable[None], row: Schedule) -> None:
    """The orchestrator's answer, with a schedule it lost turned into NOT_FOUND."""
    try:
        await call
    except WorkflowGone:
        raise NotFound(
            f"schedule #{row.id} is missing in Temporal (see `jobmonitor reconcile`)", field="id"
        ) from None


async def _workflow(session: AsyncSession, tenant: str, name: str) -> Workflow:
    ids = await workflow_ids_for(session, tenant=tenant, names=[name])
    workflow = await session.get(Workflow, next(iter(ids))) if ids else None
    if workflow is None:
        raise InvalidArgument(f"workflow {name!r} does not exist", field="workflow")
    return workflow


async def _check_agent(session: AsyncSession, tenant: str, name: str | None) -> None:
    if name is None:
        return
    statement = select(Agent.id).where(Agent.tenant_id == tenant, Agent.name == name)
    if await session.scalar(statement) is None:
        raise NotFound(f"agent {name!r} does not exist", field="agent")

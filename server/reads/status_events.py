"""Status events in sequence order, with their jobs: the tail every live subscriber shares,
and the replay of one subscriber that resumes after a sequence."""

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, JobEvent
from server.domain.filters import JobFilter

from .jobs import filter_conditions


async def latest_sequence(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(JobEvent.sequence))) or 0)


async def events_after(
    session: AsyncSession, *, after: int, limit: int
) -> list[tuple[JobEvent, Job]]:
    """The next events of every tenant after `after`, oldest first."""
    statement = (
        select(JobEvent, Job)
        .join(Job, Job.number == JobEvent.job_number)
        .where(JobEvent.sequence > after)
        .order_by(JobEvent.sequence)
        .limit(limit)
    )
    return [(event, job) for event, job in await session.execute(statement)]


async def matching_events_after(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, after: int, limit: int
) -> list[tuple[JobEvent, Job]]:
    """The next events of one tenant's jobs that match a filter, oldest first."""
    conditions = await filter_conditions(
        session, tenant=tenant, job_filter=job_filter.without_statuses()
    )
    conditions.append(JobEvent.sequence > after)
    if job_filter.statuses:
        conditions.append(status_change_in(job_filter))
    statement = (
        select(JobEvent, Job)
        .join(Job, Job.number == JobEvent.job_number)
        .where(*conditions)
        .order_by(JobEvent.sequence)
        .limit(limit)
    )
    return [(event, job) for event, job in await session.execute(statement)]


async def jobs_matching(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, numbers: Sequence[int]
) -> set[int]:
    """Which of these jobs match the filter's non-status parts."""
    conditions = await filter_conditions(
        session, tenant=tenant, job_filter=job_filter.without_statuses()
    )
    statement = select(Job.number).where(*conditions, Job.number.in_(numbers))
    return set((await session.scalars(statement)).all())


def status_change_in(job_filter: JobFilter) -> ColumnElement[bool]:
    """A status filter matches a change into or out of one of its statuses, so a view of a
    status tab learns both of jobs that arrive and of jobs that leave."""
    return or_(
        JobEvent.to_status.in_(job_filter.statuses),
        JobEvent.from_status.in_(job_filter.statuses),
    )

"""Schedules and their jobs: the SQL behind `Query.schedules`, `Job.schedule` and
`Schedule.recentJobs`."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, Schedule

from .jobs import workflow_ids_for


async def _conditions(
    session: AsyncSession, *, tenant: str, workflows: Sequence[str]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Schedule.tenant_id == tenant]
    if workflows:
        ids = await workflow_ids_for(session, tenant=tenant, names=workflows)
        conditions.append(Schedule.workflow_id.in_(ids) if ids else false())
    return conditions


async def list_schedules(
    session: AsyncSession,
    *,
    tenant: str,
    workflows: Sequence[str],
    after_id: int | None,
    limit: int,
) -> list[Schedule]:
    conditions = await _conditions(session, tenant=tenant, workflows=workflows)
    if after_id is not None:
        conditions.append(Schedule.id > after_id)
    statement = select(Schedule).where(*conditions).order_by(Schedule.id).limit(limit)
    return list(await session.scalars(statement))


async def count_schedules(session: AsyncSession, *, tenant: str, workflows: Sequence[str]) -> int:
    conditions = await _conditions(session, tenant=tenant, workflows=workflows)
    statement = select(func.count()).select_from(Schedule).where(*conditions)
    return int(await session.scalar(statement) or 0)


async def schedules_by_id(
    session: AsyncSession, *, tenant: str, ids: Sequence[int]
) -> dict[int, Schedule]:
    rows = await session.scalars(
        select(Schedule).where(Schedule.tenant_id == tenant, Schedule.id.in_(ids))
    )
    return {row.id: row for row in rows}


async def recent_jobs(
    session: AsyncSession, *, tenant: str, schedule_ids: Sequence[int], limit: int
) -> dict[int, list[Job]]:
    """Up to `limit` jobs of each schedule, newest first, in one query."""
    newest = (
        func.row_number()
        .over(partition_by=Job.schedule_id, order_by=Job.number.desc())
        .label("newest")
    )
    ranked = (
        select(Job.number, newest)
        .where(Job.tenant_id == tenant, Job.schedule_id.in_(schedule_ids))
        .subquery()
    )
    statement = (
        select(Job)
        .join(ranked, ranked.c.number == Job.number)
        .where(ranked.c.newest <= limit)
        .order_by(Job.number.desc())
    )
    grouped: dict[int, list[Job]] = defaultdict(list)
    for job in await session.scalars(statement):
        if job.schedule_id is not None:
            grouped[job.schedule_id].append(job)
    return grouped


async def newest_job(session: AsyncSession, *, schedule_id: int) -> Job | None:
    statement = (
        select(Job).where(Job.schedule_id == schedule_id).order_by(Job.number.desc()).limit(1)
    )
    return await session.scalar(statement)


async def job_of_schedule_after(
    session: AsyncSession, *, schedule_id: int, after: int
) -> Job | None:
    """The schedule's oldest job numbered after `after`."""
    statement = (
        select(Job)
        .where(Job.schedule_id == schedule_id, Job.number > after)
        .order_by(Job.number)
        .limit(1)
    )
    return await session.scalar(statement)

"""Rows by key, in bulk: the SQL behind the per-request dataloaders."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.db.models import (
    Agent,
    Job,
    JobEvent,
    JobNotification,
    JobStep,
    LogLine,
    StepAttempt,
    Workflow,
)
from server.domain.enums import LogStream
from server.domain.errors import NotFound


async def workflows_by_id(
    session: AsyncSession, *, tenant: str, ids: Sequence[int]
) -> dict[int, Workflow]:
    rows = await session.scalars(
        select(Workflow).where(Workflow.tenant_id == tenant, Workflow.id.in_(ids))
    )
    return {row.id: row for row in rows}


async def agents_by_id(
    session: AsyncSession, *, tenant: str, ids: Sequence[int]
) -> dict[int, Agent]:
    rows = await session.scalars(select(Agent).where(Agent.tenant_id == tenant, Agent.id.in_(ids)))
    return {row.id: row for row in rows}


async def agent_named(session: AsyncSession, *, tenant: str, name: str) -> Agent:
    """The tenant's agent of that name; NotFound when there is none."""
    agent = await session.scalar(select(Agent).where(Agent.tenant_id == tenant, Agent.name == name))
    if agent is None:
        raise NotFound(f"agent {name!r} does not exist", field="agent")
    return agent


async def jobs_by_number(
    session: AsyncSession, *, tenant: str, numbers: Sequence[int]
) -> dict[int, Job]:
    rows = await session.scalars(
        select(Job).where(Job.tenant_id == tenant, Job.number.in_(numbers))
    )
    return {row.number: row for row in rows}


async def steps_by_job(session: AsyncSession, numbers: Sequence[int]) -> dict[int, list[JobStep]]:
    rows = await session.scalars(
        select(JobStep).where(JobStep.job_number.in_(numbers)).order_by(JobStep.index)
    )
    grouped: dict[int, list[JobStep]] = defaultdict(list)
    for row in rows:
        grouped[row.job_number].append(row)
    return grouped


async def notifications_by_job(
    session: AsyncSession, numbers: Sequence[int]
) -> dict[int, list[JobNotification]]:
    rows = await session.scalars(
        select(JobNotification)
        .where(JobNotification.job_number.in_(numbers))
        .order_by(JobNotification.id)
    )
    grouped: dict[int, list[JobNotification]] = defaultdict(list)
    for row in rows:
        grouped[row.job_number].append(row)
    return grouped


async def events_by_job(session: AsyncSession, numbers: Sequence[int]) -> dict[int, list[JobEvent]]:
    rows = await session.scalars(
        select(JobEvent).where(JobEvent.job_number.in_(numbers)).order_by(JobEvent.sequence)
    )
    grouped: dict[int, list[JobEvent]] = defaultdict(list)
    for row in rows:
        grouped[row.job_number].append(row)
    return grouped


async def attempts_by_job(
    session: AsyncSession, numbers: Sequence[int]
) -> dict[int, list[StepAttempt]]:
    rows = await session.scalars(
        select(StepAttempt)
        .where(StepAttempt.job_number.in_(numbers))
        .order_by(StepAttempt.step_index, StepAttempt.attempt)
    )
    grouped: dict[int, list[StepAttempt]] = defaultdict(list)
    for row in rows:
        grouped[row.job_number].append(row)
    return grouped


async def log_lines(
    session: AsyncSession,
    *,
    job_number: int,
    after: int | None,
    limit: int,
    streams: Sequence[LogStream],
    step: int | None = None,
) -> list[LogLine]:
    """Up to `limit` lines of one job (or of one of its steps) after a sequence number, oldest
    first."""
    statement = select(LogLine).where(
        LogLine.job_number == job_number, *_log_conditions(after, streams, step)
    )
    rows = await session.scalars(statement.order_by(LogLine.sequence).limit(limit))
    return list(rows)


async def reruns_of(
    session: AsyncSession, *, tenant: str, numbers: Sequence[int]
) -> dict[int, list[Job]]:
    """The reruns of each job, newest first."""
    rows = await session.scalars(
        select(Job)
        .where(Job.tenant_id == tenant, Job.rerun_of_number.in_(numbers))
        .order_by(Job.number.desc())
    )
    grouped: dict[int, list[Job]] = defaultdict(list)
    for row in rows:
        if row.rerun_of_number is not None:
            grouped[row.rerun_of_number].append(row)
    return grouped


async def follow_ups_of(
    session: AsyncSession, *, tenant: str, numbers: Sequence[int]
) -> dict[int, list[Job]]:
    """The follow-ups of each job, in the order they were made."""
    rows = await session.scalars(
        select(Job)
        .where(Job.tenant_id == tenant, Job.parent_number.in_(numbers))
        .order_by(Job.number)
    )
    grouped: dict[int, list[Job]] = defaultdict(list)
    for row in rows:
        if row.parent_number is not None:
            grouped[row.parent_number].append(row)
    return grouped


async def log_pages(
    session: AsyncSession,
    *,
    job_numbers: Sequence[int],
    after: int | None,
    limit: int,
    streams: Sequence[LogStream],
    step: int | None = None,
) -> dict[int, list[LogLine]]:
    """`log_lines` of many jobs in one statement: the first `limit` lines of each."""
    position = (
        func.row_number()
        .over(partition_by=LogLine.job_number, order_by=LogLine.sequence)
        .label("position")
    )
    ranked = (
        select(LogLine, position)
        .where(LogLine.job_number.in_(job_numbers), *_log_conditions(after, streams, step))
        .subquery()
    )
    line = aliased(LogLine, ranked)
    rows = await session.scalars(
        select(line)
        .where(ranked.c.position <= limit)
        .order_by(ranked.c.job_number, ranked.c.sequence)
    )
    pages: dict[int, list[LogLine]] = defaultdict(list)
    for row in rows:
        pages[row.job_number].append(row)
    return pages


def _log_conditions(
    after: int | None, streams: Sequence[LogStream], step: int | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if step is not None:
        conditions.append(LogLine.step == step)
    if after is not None:
        conditions.append(LogLine.sequence > after)
    if streams:
        conditions.append(LogLine.stream.in_(streams))
    return conditions

"""The dashboard's figures, computed in the database: counts per status per bucket of time, and
per workflow its totals, failures, duration percentiles and cost.

Jobs are placed by `created_at`. Both statements read the jobs of the window through the
`(tenant_id, created_at, number)` index; PostgreSQL computes the percentiles itself
(`percentile_cont`), SQLite, which has none, hands the finished jobs' durations back sorted.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from server.db.models import Job
from server.domain.enums import JobStatus
from server.domain.filters import JobFilter
from server.domain.rules import FINAL_STATUSES
from server.domain.stats import StatsWindow, percentile

from .jobs import filter_conditions

PERCENTILES = (0.5, 0.95)


@dataclass(frozen=True)
class WorkflowFigures:
    workflow_id: int
    total: int
    failed: int
    finished: int
    duration_p50: float | None
    duration_p95: float | None
    cost_usd: float | None


@dataclass(frozen=True)
class StatsFigures:
    buckets: list[tuple[datetime, dict[JobStatus, int]]]
    workflows: list[WorkflowFigures]


async def job_stats(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, window: StatsWindow
) -> StatsFigures:
    conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
    conditions += [Job.created_at >= window.start, Job.created_at < window.end]
    postgres = session.get_bind().dialect.name == "postgresql"
    return StatsFigures(
        buckets=await _buckets(session, conditions, window, postgres=postgres),
        workflows=await _workflows(session, conditions, postgres=postgres),
    )


async def _buckets(
    session: AsyncSession,
    conditions: list[ColumnElement[bool]],
    window: StatsWindow,
    *,
    postgres: bool,
) -> list[tuple[datetime, dict[JobStatus, int]]]:
    seconds = int(window.bucket.length.total_seconds())
    offset = _epoch(Job.created_at, postgres=postgres) - int(window.first.timestamp())
    index = func.floor(offset / seconds) if postgres else offset / seconds
    counted = (
        select(cast(index, Integer).label("bucket"), Job.status, func.count())
        .where(*conditions)
        .group_by("bucket", Job.status)
    )
    per_bucket: dict[int, dict[JobStatus, int]] = defaultdict(dict)
    for bucket, status, count in await session.execute(counted):
        per_bucket[bucket][status] = int(count)
    return [(start, per_bucket.get(i, {})) for i, start in enumerate(window.starts())]


async def _workflows(
    session: AsyncSession, conditions: list[ColumnElement[bool]], *, postgres: bool
) -> list[WorkflowFigures]:
    finished = Job.status.in_(FINAL_STATUSES)
    timed = finished & Job.started_at.is_not(None) & Job.completed_at.is_not(None)
    duration = _duration(postgres=postgres)
    columns: list[ColumnElement[Any] | InstrumentedAttribute[Any]] = [
        Job.workflow_id,
        func.count(),
        func.count(case((Job.status == JobStatus.FAILED, 1))),
        func.count(case((finished, 1))),
        func.sum(Job.cost_usd),
    ]
    if postgres:
        columns += [
            func.percentile_cont(fraction).within_group(duration).filter(timed)
            for fraction in PERCENTILES
        ]
    rows = (
        await session.execute(
            select(*columns).where(*conditions).group_by(Job.workflow_id).order_by(Job.workflow_id)
        )
    ).all()
    durations: dict[int, list[float]] = (
        {} if postgres else await _durations(session, [*conditions, timed], duration)
    )
    figures = []
    for row in rows:
        workflow_id, total, failed, ended, cost, *quantiles = tuple[Any, ...](row)
        if not postgres:
            ordered = durations.get(workflow_id, [])
            quantiles = [percentile(ordered, fraction) for fraction in PERCENTILES]
        p50, p95 = (float(value) if value is not None else None for value in quantiles)
        figures.append(
            WorkflowFigures(
                workflow_id=workflow_id,
                total=int(total),
                failed=int(failed),
                finished=int(ended),
                duration_p50=p50,
                duration_p95=p95,
                cost_usd=float(cost) if cost is not None else None,
            )
        )
    return figures


async def _durations(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], duration: ColumnElement[Any]
) -> dict[int, list[float]]:
    """Each workflow's finished jobs' durations, ascending."""
    statement = (
        select(Job.workflow_id, duration).where(*conditions).order_by(Job.workflow_id, duration)
    )
    grouped: dict[int, list[float]] = defaultdict(list)
    for workflow_id, seconds in await session.execute(statement):
        grouped[workflow_id].append(float(seconds))
    return grouped


def _epoch(column: InstrumentedAttribute[datetime], *, postgres: bool) -> ColumnElement[Any]:
    """Whole seconds since 1970 (SQLite keeps naive UTC text; PostgreSQL timestamptz)."""
    if postgres:
        return func.extract("epoch", column)
    return cast(func.strftime("%s", column), Integer)


def _duration(*, postgres: bool) -> ColumnElement[Any]:
    if postgres:
        return func.extract("epoch", Job.completed_at - Job.started_at)
    return (func.julianday(Job.completed_at) - func.julianday(Job.started_at)) * 86400.0

"""The dashboard's figures, computed in the database: counts per status per bucket of time, and
per workflow its totals, failures, duration percentiles and cost.

Jobs are placed by `created_at`. Two statements, independent of each other (a caller may run
them at once), both reading only the window's jobs through the covering index
`ix_jobs_tenant_created_stats` (every column they need is in it, so neither touches the
table): `grouped_counts` groups by (bucket, status, workflow) and sums costs, which answers the
buckets and each workflow's totals at once; `duration_percentiles` gives each workflow's
percentiles, which PostgreSQL computes itself (`percentile_cont`) and SQLite, which has no such
function, leaves to Python over the finished jobs' durations.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, literal, select
from sqlalchemy.dialects.postgresql import INTERVAL, array
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job
from server.db.types import UTCDateTime
from server.domain.enums import JobStatus
from server.domain.filters import JobFilter
from server.domain.rules import FINAL_STATUSES
from server.domain.stats import StatsWindow, percentile

from .jobs import filter_conditions

PERCENTILES = (0.5, 0.95)
Percentiles = dict[int, tuple[float | None, float | None]]
"""Each workflow's p50 and p95 duration in seconds."""


@dataclass(frozen=True)
class Group:
    """The jobs of one bucket, status and workflow."""

    bucket: int
    status: JobStatus
    workflow_id: int
    count: int
    cost_usd: float | None


@dataclass
class WorkflowFigures:
    workflow_id: int
    total: int = 0
    failed: int = 0
    finished: int = 0
    duration_p50: float | None = None
    duration_p95: float | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class StatsFigures:
    buckets: list[tuple[datetime, dict[JobStatus, int]]]
    workflows: list[WorkflowFigures]


async def grouped_counts(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, window: StatsWindow
) -> list[Group]:
    conditions = await _window(session, tenant, job_filter, window)
    postgres = session.get_bind().dialect.name == "postgresql"
    columns = (Job.status, Job.workflow_id, func.count(), func.sum(Job.cost_usd))
    statement = (
        select(_bucket(window, postgres=postgres).label("bucket"), *columns)
        .where(*conditions)
        .group_by("bucket", Job.status, Job.workflow_id)
    )
    return [
        Group(
            bucket=window.index_of(bucket) if postgres else int(bucket),
            status=status,
            workflow_id=workflow_id,
            count=int(count),
            cost_usd=float(cost) if cost is not None else None,
        )
        for bucket, status, workflow_id, count, cost in await session.execute(statement)
    ]


async def duration_percentiles(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, window: StatsWindow
) -> Percentiles:
    conditions = await _window(session, tenant, job_filter, window)
    conditions += [
        Job.status.in_(FINAL_STATUSES),
        Job.started_at.is_not(None),
        Job.completed_at.is_not(None),
    ]
    if session.get_bind().dialect.name == "postgresql":
        return await _percentiles_there(session, conditions)
    return await _percentiles_here(session, conditions)


def combined(window: StatsWindow, groups: Sequence[Group], durations: Percentiles) -> StatsFigures:
    per_bucket: dict[int, dict[JobStatus, int]] = defaultdict(dict)
    workflows: dict[int, WorkflowFigures] = {}
    for group in groups:
        counts = per_bucket[group.bucket]
        counts[group.status] = counts.get(group.status, 0) + group.count
        figures = workflows.setdefault(group.workflow_id, WorkflowFigures(group.workflow_id))
        figures.total += group.count
        figures.failed += group.count if group.status is JobStatus.FAILED else 0
        figures.finished += group.count if group.status in FINAL_STATUSES else 0
        if group.cost_usd is not None:
            figures.cost_usd = (figures.cost_usd or 0.0) + group.cost_usd
    for workflow_id, (p50, p95) in durations.items():
        workflows[workflow_id].duration_p50 = p50
        workflows[workflow_id].duration_p95 = p95
    return StatsFigures(
        buckets=[(start, per_bucket.get(i, {})) for i, start in enumerate(window.starts())],
        workflows=[workflows[key] for key in sorted(workflows)],
    )


async def _window(
    session: AsyncSession, tenant: str, job_filter: JobFilter, window: StatsWindow
) -> list[ColumnElement[bool]]:
    conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
    return [*conditions, Job.created_at >= window.start, Job.created_at < window.end]


def _bucket(window: StatsWindow, *, postgres: bool) -> ColumnElement[Any]:
    """Which bucket a job falls in: its bucket's start on PostgreSQL (date_bin keeps to
    timestamps; arithmetic on epoch seconds is numeric there, and 2-3x slower), its bucket's
    index on SQLite (integer seconds since the first bucket, divided)."""
    if postgres:
        return func.date_bin(
            literal(window.bucket.length, INTERVAL()),
            Job.created_at,
            literal(window.first, UTCDateTime()),
        )
    seconds = cast(func.strftime("%s", Job.created_at), Integer) - int(window.first.timestamp())
    return seconds / int(window.bucket.length.total_seconds())


async def _percentiles_there(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]]
) -> Percentiles:
    """Both percentiles of each workflow from one sort."""
    duration = func.extract("epoch", Job.completed_at - Job.started_at)
    statement = (
        select(Job.workflow_id, func.percentile_cont(array([*PERCENTILES])).within_group(duration))
        .where(*conditions)
        .group_by(Job.workflow_id)
    )
    return {
        workflow_id: (float(values[0]), float(values[1]))
        for workflow_id, values in await session.execute(statement)
    }


async def _percentiles_here(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]]
) -> Percentiles:
    """The durations, sorted here. (An ORDER BY on the workflow would lead SQLite to walk the
    tenant's (workflow, status) index over every job instead of the window.)"""
    duration = (func.julianday(Job.completed_at) - func.julianday(Job.started_at)) * 86400.0
    grouped: dict[int, list[float]] = defaultdict(list)
    for workflow_id, seconds in await session.execute(
        select(Job.workflow_id, duration).where(*conditions)
    ):
        grouped[workflow_id].append(float(seconds))
    found: Percentiles = {}
    for workflow_id, values in grouped.items():
        values.sort()
        low, high = (percentile(values, fraction) for fraction in PERCENTILES)
        found[workflow_id] = (low, high)
    return found


__all__ = ["StatsFigures", "WorkflowFigures", "combined", "duration_percentiles", "grouped_counts"]

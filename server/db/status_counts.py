"""The per-status job counts of each tenant (`job_status_counts`): kept one change at a time by
the state machine, and recomputed wholesale after bulk loads or to repair drift.

Both write with an upsert, PostgreSQL's or SQLite's by the session's dialect.
"""

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from server.db.models import Job, JobStatusCount
from server.domain.enums import JobStatus

_KEY = [JobStatusCount.tenant_id, JobStatusCount.status]


async def adjust_status_count(
    session: AsyncSession, *, tenant: str, status: JobStatus, delta: int
) -> None:
    """Add `delta` to the tenant's count of `status` (a row is made the first time)."""
    statement = _upsert(session).values(tenant_id=tenant, status=status, count=delta)
    await session.execute(_on_key_set(statement, JobStatusCount.count + delta))


async def rebuild_status_counts(session: AsyncSession, tenant: str) -> None:
    """Set the tenant's count of every status to the number of its jobs in that status.

    Every status gets a row, zero included, and existing rows are overwritten rather than
    deleted, so the state machine's concurrent upserts never meet a missing row.
    """
    counted = select(Job.status, func.count()).where(Job.tenant_id == tenant).group_by(Job.status)
    counts = {status: int(count) for status, count in (await session.execute(counted))}
    statement = _upsert(session)
    await session.execute(
        _on_key_set(statement, statement.excluded["count"]),
        [
            {"tenant_id": tenant, "status": status, "count": counts.get(status, 0)}
            for status in JobStatus
        ],
    )


Upsert = postgresql.Insert | sqlite.Insert


def _upsert(session: AsyncSession) -> Upsert:
    """An INSERT that can say what to do ON CONFLICT, in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(JobStatusCount)
    return sqlite.insert(JobStatusCount)


def _on_key_set(statement: Upsert, count: ColumnElement[int]) -> Upsert:
    """On a row of the same tenant and status, set its count to `count` instead."""
    return statement.on_conflict_do_update(index_elements=_KEY, set_={"count": count})

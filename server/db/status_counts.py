"""Recomputing the per-status job counts of a tenant from the jobs themselves.

The state machine keeps `job_status_counts` current one change at a time; this puts it
right wholesale, after bulk loads or to repair drift.
"""

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, JobStatusCount
from server.domain.enums import JobStatus

_KEY = [JobStatusCount.tenant_id, JobStatusCount.status]


async def rebuild_status_counts(session: AsyncSession, tenant: str) -> None:
    """Set the tenant's count of every status to the number of its jobs in that status.

    Every status gets a row, zero included, and existing rows are overwritten rather than
    deleted, so the state machine's concurrent upserts never meet a missing row.
    """
    counted = select(Job.status, func.count()).where(Job.tenant_id == tenant).group_by(Job.status)
    counts = {status: int(count) for status, count in (await session.execute(counted))}
    dialect = (await session.connection()).dialect.name
    await session.execute(
        _overwrite(dialect),
        [
            {"tenant_id": tenant, "status": status, "count": counts.get(status, 0)}
            for status in JobStatus
        ],
    )


def _overwrite(dialect: str) -> Insert:
    if dialect == "postgresql":
        postgresql = postgresql_insert(JobStatusCount)
        return postgresql.on_conflict_do_update(
            index_elements=_KEY, set_={"count": postgresql.excluded["count"]}
        )
    sqlite = sqlite_insert(JobStatusCount)
    return sqlite.on_conflict_do_update(
        index_elements=_KEY, set_={"count": sqlite.excluded["count"]}
    )

"""Keeps the per-status job counts in step with status changes, in the same transaction."""

from sqlalchemy import Insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import JobStatusCount
from server.domain.enums import JobStatus


async def adjust_status_count(
    session: AsyncSession, *, tenant: str, status: JobStatus, delta: int
) -> None:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement: Insert = insert(JobStatusCount).values(tenant_id=tenant, status=status, count=delta)
    statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[JobStatusCount.tenant_id, JobStatusCount.status],
        set_={"count": JobStatusCount.count + delta},
    )
    await session.execute(statement)

"""What /metrics reads at scrape time: jobs by status, queues, the dispatch outbox."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, JobOutbox, JobStatusCount, Workflow
from server.domain.enums import JobStatus


@dataclass(frozen=True)
class Outbox:
    depth: int
    """Dispatches not yet delivered to Temporal."""
    oldest: datetime | None
    """When the oldest of them was written."""


async def jobs_by_status(session: AsyncSession) -> list[tuple[str, JobStatus, int]]:
    """(tenant, status, jobs) from the counts the state machine keeps: no scan of the jobs."""
    statement = select(JobStatusCount.tenant_id, JobStatusCount.status, JobStatusCount.count)
    return [(tenant, status, count) for tenant, status, count in await session.execute(statement)]


async def queued_by_workflow(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(tenant, workflow slug, jobs PENDING: waiting for an agent) of every workflow with any.
    Only the tenants whose kept counts say they have pending jobs are read, through the
    (tenant, status) index: the pending jobs, not the whole table."""
    with_pending = select(JobStatusCount.tenant_id).where(
        JobStatusCount.status == JobStatus.PENDING, JobStatusCount.count > 0
    )
    statement = (
        select(Job.tenant_id, Workflow.slug, func.count())
        .join(Workflow, Workflow.id == Job.workflow_id)
        .where(Job.status == JobStatus.PENDING, Job.tenant_id.in_(with_pending))
        .group_by(Job.tenant_id, Workflow.slug)
    )
    return [(tenant, slug, count) for tenant, slug, count in await session.execute(statement)]


async def outbox(session: AsyncSession) -> Outbox:
    statement = select(func.count(), func.min(JobOutbox.created_at)).where(
        JobOutbox.delivered_at.is_(None)
    )
    depth, oldest = (await session.execute(statement)).one()
    return Outbox(depth=int(depth), oldest=oldest)

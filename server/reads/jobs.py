"""Job lists with keyset pagination, totals, per-status counts and filter options."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agent, Job, JobStatusCount, Workflow
from server.db.types import UTCDateTime
from server.domain.enums import JobOrder, JobStatus
from server.domain.filters import JobFilter

from .cursors import decode_job_cursor, encode_job_cursor
from .paging import PageRequest


@dataclass(frozen=True)
class JobPage:
    jobs: Sequence[Job]
    has_next_page: bool
    has_previous_page: bool
    order: JobOrder

    def cursor(self, job: Job) -> str:
        return encode_job_cursor(self.order, job.created_at, job.number)


async def list_jobs(
    session: AsyncSession,
    *,
    tenant: str,
    job_filter: JobFilter,
    order: JobOrder,
    page: PageRequest,
) -> JobPage:
    """One page of jobs, newest (or oldest) first, resumed after a cursor without OFFSET."""
    conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
    descending = (order is JobOrder.CREATED_AT_DESC) != page.backward
    key = tuple_(Job.created_at, Job.number)
    if page.cursor is not None:
        created_at, number = decode_job_cursor(page.cursor, order, argument=page.cursor_argument)
        bound = tuple_(literal(created_at, UTCDateTime()), literal(number))
        conditions.append(key < bound if descending else key > bound)
    ordering = (
        (Job.created_at.desc(), Job.number.desc())
        if descending
        else (Job.created_at.asc(), Job.number.asc())
    )
    statement = select(Job).where(*conditions).order_by(*ordering).limit(page.limit + 1)
    rows = list((await session.scalars(statement)).all())
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    if page.backward:
        rows.reverse()
        return JobPage(rows, page.cursor is not None, has_more, order)
    return JobPage(rows, has_more, page.cursor is not None, order)


async def count_jobs(session: AsyncSession, *, tenant: str, job_filter: JobFilter) -> int:
    """The total for a filter; a status-only filter reads the maintained counts table."""
    if job_filter.only_statuses:
        counts = await _stored_counts(session, tenant=tenant)
        wanted = job_filter.statuses or tuple(JobStatus)
        return sum(counts.get(status, 0) for status in wanted)
    conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
    return int(await session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0)


async def count_by_status(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter
) -> dict[JobStatus, int]:
    """Jobs per status tab, in one round trip; the filter's statuses do not apply."""
    job_filter = job_filter.without_statuses()
    if job_filter.only_statuses:
        return await _stored_counts(session, tenant=tenant)
    conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
    statement = select(Job.status, func.count()).where(*conditions).group_by(Job.status)
    return {status: int(count) for status, count in (await session.execute(statement))}


async def _stored_counts(session: AsyncSession, *, tenant: str) -> dict[JobStatus, int]:
    statement = select(JobStatusCount.status, JobStatusCount.count).where(
        JobStatusCount.tenant_id == tenant
    )
    return {status: int(count) for status, count in (await session.execute(statement))}


async def filter_options(
    session: AsyncSession, *, tenant: str
) -> tuple[list[Workflow], list[Agent]]:
    """Workflows and agents that occur in the tenant's jobs (each workflow once, aliases folded)."""
    used_workflows = select(Job.workflow_id).where(Job.tenant_id == tenant).distinct()
    used_agents = (
        select(Job.agent_id).where(Job.tenant_id == tenant, Job.agent_id.is_not(None)).distinct()
    )
    workflows = await session.scalars(
        select(Workflow).where(Workflow.id.in_(used_workflows)).order_by(Workflow.display_name)
    )
    agents = await session.scalars(
        select(Agent).where(Agent.id.in_(used_agents)).order_by(Agent.name)
    )
    return list(workflows.all()), list(agents.all())


async def workflow_ids_for(session: AsyncSession, *, tenant: str, names: Sequence[str]) -> set[int]:
    """The workflows a list of slugs or legacy aliases names."""
    wanted = set(names)
    rows = await session.execute(
        select(Workflow.id, Workflow.slug, Workflow.aliases).where(Workflow.tenant_id == tenant)
    )
    return {
        workflow_id
        for workflow_id, slug, aliases in rows
        if slug in wanted or wanted.intersection(aliases or ())
    }


async def filter_conditions(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Job.tenant_id == tenant]
    if job_filter.statuses:
        conditions.append(Job.status.in_(job_filter.statuses))
    if job_filter.search:
        pattern = job_filter.search.strip().lower()
        conditions.append(func.lower(Job.ticket_key).contains(pattern, autoescape=True))
    if job_filter.workflows:
        ids = await workflow_ids_for(session, tenant=tenant, names=job_filter.workflows)
        conditions.append(Job.workflow_id.in_(ids) if ids else false())
    if job_filter.agents:
        conditions.append(Job.agent_id.in_(_agent_ids(tenant, job_filter.agents)))
    if job_filter.workflow_ids:
        conditions.append(Job.workflow_id.in_(job_filter.workflow_ids))
    if job_filter.agent_ids:
        conditions.append(Job.agent_id.in_(job_filter.agent_ids))
    if job_filter.created_after is not None:
        conditions.append(Job.created_at >= job_filter.created_after)
    if job_filter.created_before is not None:
        conditions.append(Job.created_at < job_filter.created_before)
    if job_filter.hide_resent:
        conditions.append(Job.resent_as_number.is_(None))
    return conditions


def _agent_ids(tenant: str, names: Sequence[str]) -> Select[int]:
    return select(Agent.id).where(Agent.tenant_id == tenant, Agent.name.in_(names))

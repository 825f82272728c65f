"""Job lists with keyset pagination, totals, per-status counts and filter options."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    false,
    func,
    literal,
    select,
    table,
    tablesample,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.util import ClauseAdapter

from server.db.models import Agent, Job, JobStatusCount, Workflow
from server.db.types import UTCDateTime
from server.domain.enums import JobOrder, JobStatus
from server.domain.filters import JobFilter

from .cursors import decode_job_cursor, encode_job_cursor
from .paging import PageRequest

SAMPLE_ROWS = 10_000
"""Rows an estimated total reads (about 1 % of a million): a term matching 5 % of jobs is
then known within about 5 %, at a few milliseconds."""
SAMPLE_SEED = 1
"""The same sample every time, so a total does not change between two identical requests."""
pg_class = table("pg_class", column("oid"), column("reltuples"))


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


@dataclass(frozen=True, slots=True)
class Total:
    count: int
    exact: bool
    """False when `count` is an estimate (see `count_jobs`)."""


async def count_jobs(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, exact_up_to: int
) -> Total:
    """The total for a filter. A status-only filter reads the maintained counts table.
    Otherwise the matching jobs are counted up to `exact_up_to`; beyond that, on PostgreSQL,
    counting every match of a common search term costs more than a page (tens of thousands
    of rows to visit), so the total is estimated from a sample of the table instead."""
    if job_filter.only_statuses:
        counts = await _stored_counts(session, tenant=tenant)
        wanted = job_filter.statuses or tuple(JobStatus)
        return Total(sum(counts.get(status, 0) for status in wanted), exact=True)
    conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
    if session.get_bind().dialect.name != "postgresql":
        count = await session.scalar(select(func.count()).select_from(Job).where(*conditions))
        return Total(int(count or 0), exact=True)
    matches = select(literal(1)).where(*conditions).limit(exact_up_to + 1).subquery()
    bounded = int(await session.scalar(select(func.count()).select_from(matches)) or 0)
    if bounded <= exact_up_to:
        return Total(bounded, exact=True)
    return Total(max(bounded, await _sampled_count(session, conditions)), exact=False)


async def _sampled_count(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> int:
    """The matches in a block sample of about SAMPLE_ROWS rows, scaled up to the table."""
    rows = float(
        await session.scalar(
            select(func.greatest(pg_class.c.reltuples, 1.0)).where(
                pg_class.c.oid == func.to_regclass(Job.__tablename__)
            )
        )
        or 1.0
    )
    percent = min(100.0, 100.0 * SAMPLE_ROWS / rows)
    sample = tablesample(Job, func.system(percent), name="sample", seed=literal(SAMPLE_SEED))
    adapted = [ClauseAdapter(sample).traverse(condition) for condition in conditions]
    found = int(await session.scalar(select(func.count()).select_from(sample).where(*adapted)) or 0)
    return round(found * 100.0 / percent)


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

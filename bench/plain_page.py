"""The baseline: the Jobs page without GraphQL. The same reads as the GraphQL page (the
page, the total, the page's workflows and agents) and the same fields, as a plain dict
serialised with orjson. Used by the bench server's /bench/jobs-page route and in-process."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import to_base64

from server.db.models import Agent, Workflow
from server.domain import rules
from server.domain.enums import JobOrder, JobStatus
from server.domain.filters import JobFilter
from server.reads import jobs, rows
from server.reads.paging import PageRequest
from server.settings import Settings

PAGE_SIZE = 50
EXACT_TOTAL_LIMIT = Settings.model_fields["exact_total_limit"].default


@dataclass(frozen=True)
class PageData:
    page: jobs.JobPage
    total: int
    workflows: dict[int, Workflow]
    agents: dict[int, Agent]


def page_filter(status: JobStatus | None, search: str | None = None) -> JobFilter:
    return JobFilter(statuses=(status,) if status is not None else (), search=search)


async def read_page(
    session: AsyncSession, *, tenant: str, job_filter: JobFilter, after: str | None
) -> PageData:
    """The four reads of the page, one after the other in one session."""
    page = await jobs.list_jobs(
        session,
        tenant=tenant,
        job_filter=job_filter,
        order=JobOrder.CREATED_AT_DESC,
        page=PageRequest(limit=PAGE_SIZE, cursor=after, backward=False),
    )
    total = (
        await jobs.count_jobs(
            session, tenant=tenant, job_filter=job_filter, exact_up_to=EXACT_TOTAL_LIMIT
        )
    ).count
    workflow_ids = sorted({job.workflow_id for job in page.jobs})
    agent_ids = sorted({job.agent_id for job in page.jobs if job.agent_id is not None})
    workflows = await rows.workflows_by_id(session, tenant=tenant, ids=workflow_ids)
    agents = await rows.agents_by_id(session, tenant=tenant, ids=agent_ids)
    return PageData(page, total, workflows, agents)


async def read_page_loader_style(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    tenant: str,
    job_filter: JobFilter,
    after: str | None,
) -> PageData:
    """The same reads, each in a short session of its own, as the GraphQL loaders do them."""

    async def in_session(query: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with session_factory() as session:
            return await query(session)

    request = PageRequest(limit=PAGE_SIZE, cursor=after, backward=False)
    page: jobs.JobPage = await in_session(
        lambda s: jobs.list_jobs(
            s, tenant=tenant, job_filter=job_filter, order=JobOrder.CREATED_AT_DESC, page=request
        )
    )
    total: jobs.Total = await in_session(
        lambda s: jobs.count_jobs(
            s, tenant=tenant, job_filter=job_filter, exact_up_to=EXACT_TOTAL_LIMIT
        )
    )
    workflow_ids = sorted({job.workflow_id for job in page.jobs})
    agent_ids = sorted({job.agent_id for job in page.jobs if job.agent_id is not None})
    workflows: dict[int, Workflow] = await in_session(
        lambda s: rows.workflows_by_id(s, tenant=tenant, ids=workflow_ids)
    )
    agents: dict[int, Agent] = await in_session(
        lambda s: rows.agents_by_id(s, tenant=tenant, ids=agent_ids)
    )
    return PageData(page, total.count, workflows, agents)


def page_document(data: PageData) -> dict[str, Any]:
    """The GraphQL response's shape and values, built by hand."""
    now = datetime.now(UTC)
    edges = []
    for job in data.page.jobs:
        workflow = data.workflows.get(job.workflow_id)
        agent = data.agents.get(job.agent_id) if job.agent_id is not None else None
        slug = workflow.slug if workflow is not None else "unknown-workflow"
        duration = None
        if job.started_at is not None:
            end = job.completed_at or now
            duration = max((end - job.started_at).total_seconds(), 0.0)
        edges.append(
            {
                "cursor": data.page.cursor(job),
                "node": {
                    "id": to_base64("Job", job.number),
                    "number": job.number,
                    "name": f"{slug} — {job.ticket_key or 'queued'}",
                    "status": job.status.value,
                    "ticketKey": job.ticket_key,
                    "stepCount": job.step_count,
                    "durationSeconds": duration,
                    "canCancel": rules.can_cancel(job.status),
                    "canResend": rules.can_resend(
                        job.status, already_resent=job.resent_as_number is not None
                    ),
                    "workflow": (
                        {"slug": workflow.slug, "displayName": workflow.display_name}
                        if workflow is not None
                        else None
                    ),
                    "agent": {"name": agent.name} if agent is not None else None,
                },
            }
        )
    return {
        "data": {
            "jobs": {
                "totalCount": data.total,
                "pageInfo": {
                    "hasNextPage": data.page.has_next_page,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
                "edges": edges,
            }
        }
    }


async def plain_page_bytes(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    tenant: str,
    job_filter: JobFilter,
    after: str | None,
) -> bytes:
    """Everything the plain route does: read, build, serialise."""
    async with session_factory() as session:
        data = await read_page(session, tenant=tenant, job_filter=job_filter, after=after)
    return orjson.dumps(page_document(data))

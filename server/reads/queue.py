"""The queue as the database holds it: the waiting jobs of a tenant and its agents' slots."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agent, Job, Workflow
from server.domain.enums import AgentStatus
from server.domain.queue import LIVE_WITHIN, AgentSlots, Standing, WaitingJob, standings
from server.domain.rules import FINAL_STATUSES

# The longest queue read at once (positions beyond it are not computed).
QUEUE_WINDOW = 10_000


def waiting_statement(
    tenant: str, *, limit: int = QUEUE_WINDOW, after: int | None = None
) -> Select[Job]:
    """The tenant's waiting jobs, oldest first: in the queue and holding no slot, in the order
    they were dispatched (numbers count up), however their workflows' claims raced to join;
    `after` a job number, for the next page."""
    statement = select(Job).where(
        Job.tenant_id == tenant,
        Job.queued_at.is_not(None),
        Job.assigned_at.is_(None),
        Job.status.not_in(FINAL_STATUSES),
    )
    if after is not None:
        statement = statement.where(Job.number > after)
    return statement.order_by(Job.number).limit(limit)


async def running_jobs(session: AsyncSession, agent_ids: Sequence[int]) -> dict[int, int]:
    """Jobs holding a slot of each agent."""
    if not agent_ids:
        return {}
    statement = (
        select(Job.agent_id, func.count())
        .where(
            Job.agent_id.in_(agent_ids),
            Job.assigned_at.is_not(None),
            Job.status.not_in(FINAL_STATUSES),
        )
        .group_by(Job.agent_id)
    )
    rows = (await session.execute(statement)).all()
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


async def agent_slots(
    session: AsyncSession, *, tenant: str, now: datetime, agents: Sequence[Agent] | None = None
) -> list[AgentSlots]:
    """Every agent of the tenant (or those given) with its slots in use and what it runs."""
    if agents is None:
        agents = list(await session.scalars(select(Agent).where(Agent.tenant_id == tenant)))
    running = await running_jobs(session, [agent.id for agent in agents])
    slugs = {slug for agent in agents for slug in agent.workflows or ()}
    ids: dict[str, int] = {}
    if slugs:
        statement = select(Workflow.slug, Workflow.id).where(
            Workflow.tenant_id == tenant, Workflow.slug.in_(slugs)
        )
        ids = dict((await session.execute(statement)).all())
    return [
        AgentSlots(
            id=agent.id,
            name=agent.name,
            slots=agent.slots,
            running=running.get(agent.id, 0),
            live=is_live(agent, now),
            workflow_ids=(
                frozenset(ids[slug] for slug in agent.workflows if slug in ids)
                if agent.workflows
                else None
            ),
        )
        for agent in agents
    ]


def is_live(agent: Agent, now: datetime) -> bool:
    return (
        agent.status is not AgentStatus.OFFLINE
        and agent.last_seen_at is not None
        and agent.last_seen_at >= now - LIVE_WITHIN
    )


async def waiting_jobs(session: AsyncSession, jobs: Sequence[Job]) -> list[WaitingJob]:
    slugs = dict(
        (
            await session.execute(
                select(Workflow.id, Workflow.slug).where(
                    Workflow.id.in_({job.workflow_id for job in jobs})
                )
            )
        ).all()
    )
    return [
        WaitingJob(
            number=job.number,
            workflow_id=job.workflow_id,
            workflow=slugs.get(job.workflow_id, "?"),
            agent_id=job.agent_id,
            pinned=job.agent_pinned,
            queued_at=job.queued_at or job.created_at,
        )
        for job in jobs
    ]


async def queue_standings(
    session: AsyncSession, *, tenant: str, numbers: Sequence[int], now: datetime
) -> dict[int, Standing]:
    """Where each waiting job of `numbers` stands; jobs not waiting are left out."""
    queue = list(await session.scalars(waiting_statement(tenant)))
    if not {job.number for job in queue} & set(numbers):
        return {}
    agents = await agent_slots(session, tenant=tenant, now=now)
    return standings(await waiting_jobs(session, queue), agents, numbers)

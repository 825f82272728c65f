"""The queue: a job waits here, PENDING, until an agent that may run it has a free slot.

A job joins the queue when it is dispatched (a scheduled one when its workflow claims an agent),
so slots go out in dispatch order, whatever order the jobs' workflows reach Init in. Nothing
polls per job. Slots are handed out when something changes: a job's workflow claims an agent,
a job ends and frees its slot, an agent starts or heartbeats. A job given a slot before its
workflow asked finds it when it claims.
Each hand-out takes the tenant's queue lock first, so two of them never give away the same
slot; the caller then wakes the workflows of the jobs that got one (after commit).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, Job
from server.domain.enums import JobStatus
from server.domain.errors import NotFound
from server.domain.queue import pick_agent, standings
from server.domain.rules import FINAL_STATUSES
from server.events import EventBus
from server.reads.queue import agent_slots, is_live, waiting_jobs, waiting_statement

from . import state_machine
from .unit_of_work import UnitOfWork, run_retrying

T = TypeVar("T")
# "jmqu" in ASCII: names the per-tenant advisory lock of the queue on PostgreSQL.
QUEUE_LOCK = 0x6A6D7175
# Waiting jobs read at once by a hand-out.
HAND_OUT_PAGE = 50
# A job given a slot that has not started after this long is woken again (a lost signal).
WAKE_AGAIN_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class Assigned:
    """A job that got a slot of an agent: its workflow is to be woken."""

    tenant: str
    job_number: int
    agent_name: str


@dataclass(frozen=True)
class Claim:
    """This job's agent if it got one; the other jobs that got a slot meanwhile."""

    agent_name: str | None
    others: list[Assigned]


class QueueService:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._session_factory = session_factory
        self._bus = bus

    async def claim(self, *, tenant: str, number: int) -> Claim:
        """The job's agent if it holds a slot (it joins the queue first if it is not in it:
        a scheduled job, or one that left it), after handing out the free slots."""

        async def action(work: UnitOfWork) -> Claim:
            # The time is read under the lock: hand-outs are stamped in the order they happen.
            await lock_queue(work.session, tenant)
            now = datetime.now(UTC)
            job = await _job(work.session, tenant, number)
            if job.status in FINAL_STATUSES:
                return Claim(None, [])
            if job.assigned_at is None and job.queued_at is None:
                job.queued_at = now
                state_machine.touched(work, job)
            assigned = await _assign(work, tenant, now)
            own = await _agent_name(work.session, job) if job.assigned_at is not None else None
            return Claim(own, [item for item in assigned if item.job_number != number])

        return await self._run(action)

    async def assign(self, *, tenant: str) -> list[Assigned]:
        """Hand out the free slots of the tenant's agents to its waiting jobs, oldest first."""

        async def action(work: UnitOfWork) -> list[Assigned]:
            await lock_queue(work.session, tenant)
            return await hand_out(work, tenant)

        return await self._run(action)

    async def leave(self, *, tenant: str, number: int) -> tuple[str | None, str]:
        """The queue timeout: the job leaves the queue unless it got a slot meanwhile; returns
        (its agent, '') or (None, why it was still waiting)."""

        async def action(work: UnitOfWork) -> tuple[str | None, str]:
            await lock_queue(work.session, tenant)
            now = datetime.now(UTC)
            job = await _job(work.session, tenant, number)
            if job.assigned_at is not None:
                return await _agent_name(work.session, job), ""
            queue = list(await work.session.scalars(waiting_statement(tenant)))
            agents = await agent_slots(work.session, tenant=tenant, now=now)
            standing = standings(await waiting_jobs(work.session, queue), agents, [number])
            job.queued_at = None
            state_machine.touched(work, job)
            found = standing.get(number)
            return None, found.reason if found is not None else "waiting for an agent"

        return await self._run(action)

    async def _run(self, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await run_retrying(self._session_factory, self._bus, action)


async def hand_out(work: UnitOfWork, tenant: str) -> list[Assigned]:
    """Within `work`, which holds the tenant's queue lock (`lock_queue`, taken before any job
    row): the free slots given to the waiting jobs, oldest first, and the jobs given one a
    while ago that have not started yet (to wake again)."""
    now = datetime.now(UTC)
    return await _assign(work, tenant, now) + await _unstarted(work.session, tenant, now)


def requeue(job: Job, now: datetime) -> None:
    """The job's agent is gone: it gives up its slot and waits again (for the same agent if
    the dispatch named it, else for any able one)."""
    job.assigned_at = None
    job.queued_at = now
    if not job.agent_pinned:
        job.agent_id = None


def release(job: Job) -> None:
    """The job ended: out of the queue, its slot free."""
    job.assigned_at = None
    job.queued_at = None


async def _assign(work: UnitOfWork, tenant: str, now: datetime) -> list[Assigned]:
    session = work.session
    agents = [
        agent
        for agent in await session.scalars(select(Agent).where(Agent.tenant_id == tenant))
        if is_live(agent, now)
    ]
    slots = await agent_slots(session, tenant=tenant, now=now, agents=agents)
    free = {agent.id: agent.free for agent in slots if agent.free > 0}
    if not free:
        return []
    names = {agent.id: agent.name for agent in slots}
    assigned: list[Assigned] = []
    after: int | None = None
    # The queue a page at a time: a hand-out usually fills its few free slots from the first
    # page, however long the queue.
    while page := list(
        await session.scalars(waiting_statement(tenant, limit=HAND_OUT_PAGE, after=after))
    ):
        for job, waiting in zip(page, await waiting_jobs(session, page), strict=True):
            agent_id = pick_agent(waiting, slots, free)
            if agent_id is None:
                continue
            job.agent_id, job.assigned_at = agent_id, now
            state_machine.touched(work, job)
            free[agent_id] -= 1
            assigned.append(Assigned(tenant, job.number, names[agent_id]))
            if not any(count > 0 for count in free.values()):
                return assigned
        after = page[-1].number
    return assigned


async def _unstarted(session: AsyncSession, tenant: str, now: datetime) -> list[Assigned]:
    """Jobs given a slot a while ago that have not started: their wake-up may have been lost."""
    statement = (
        select(Job.number, Agent.name)
        .join(Agent, Agent.id == Job.agent_id)
        .where(
            Job.tenant_id == tenant,
            Job.status == JobStatus.PENDING,
            Job.assigned_at < now - WAKE_AGAIN_AFTER,
        )
    )
    rows = (await session.execute(statement)).all()
    return [Assigned(tenant, number, name) for number, name in rows]


async def lock_queue(session: AsyncSession, tenant: str) -> None:
    """One hand-out at a time per tenant: an advisory lock on PostgreSQL; on SQLite a write
    first, which takes the database's single write lock."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(QUEUE_LOCK, func.hashtext(tenant))))
        return
    await session.execute(
        update(Agent)
        .where(Agent.tenant_id == tenant)
        .values(slots=Agent.slots)
        .execution_options(synchronize_session=False)
    )


async def _job(session: AsyncSession, tenant: str, number: int) -> Job:
    job = await session.scalar(select(Job).where(Job.tenant_id == tenant, Job.number == number))
    if job is None:
        raise NotFound(f"job #{number} does not exist", field="id")
    return job


async def _agent_name(session: AsyncSession, job: Job) -> str | None:
    if job.agent_id is None:
        return None
    return await session.scalar(select(Agent.name).where(Agent.id == job.agent_id))

"""Writes made while a job runs: start, agent claim and release, steps, gates, logs, the end.

The job workflow's activities call these (on the control-plane worker and on agents); status
changes go through the same state machine as the API's actions.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, Job, JobStep, LogLine, Workflow
from server.domain.enums import AgentStatus, JobStatus, LogStream, StepStatus
from server.domain.errors import InvalidArgument, NotFound
from server.domain.rules import ACTIVE_STATUSES, FINAL_STATUSES
from server.events import EventBus, LogAppended
from server.reads.rows import agent_named

from . import state_machine
from .unit_of_work import UnitOfWork, run_retrying

T = TypeVar("T")
SCHEDULER = "scheduler"
SYSTEM = "system"
COST_KEY = "cost_usd"
_BUSY_STATUSES = ACTIVE_STATUSES - {JobStatus.SCHEDULED, JobStatus.PENDING}


@dataclass(frozen=True)
class StartedJob:
    job: Job
    workflow: Workflow
    agent: Agent
    steps: list[JobStep]


class ExecutionService:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._session_factory = session_factory
        self._bus = bus

    async def start(self, *, tenant: str, number: int) -> StartedJob | None:
        """Mark the job RUNNING on its agent (an online one if none was chosen).

        None when the job already ended (it was cancelled before its workflow began); a job
        already running is returned as it is, so a retried Init changes nothing.
        """

        async def action(work: UnitOfWork) -> StartedJob | None:
            job = await state_machine.locked_job(work, tenant, number)
            if job.status in FINAL_STATUSES:
                return None
            agent = await _agent_for(work.session, job)
            job.agent_id = agent.id
            if job.status in (JobStatus.PENDING, JobStatus.SCHEDULED):
                await state_machine.transition(
                    work,
                    job,
                    JobStatus.RUNNING,
                    actor=SCHEDULER,
                    message=f"picked up by {agent.name}",
                )
            workflow = await work.session.get_one(Workflow, job.workflow_id)
            return StartedJob(job, workflow, agent, await _steps(work.session, number))

        return await self._run(action)

    async def claim_agent(self, *, tenant: str, number: int, agent_name: str) -> None:
        async def action(work: UnitOfWork) -> None:
            await state_machine.locked_job(work, tenant, number)
            agent = await agent_named(work.session, tenant=tenant, name=agent_name)
            agent.status = AgentStatus.BUSY
            agent.last_seen_at = datetime.now(UTC)

        await self._run(action)

    async def step_started(
        self, *, tenant: str, number: int, index: int, attempt: int, step_input: Any
    ) -> None:
        async def action(work: UnitOfWork) -> None:
            job, step = await _job_step(work, tenant, number, index)
            step.status = StepStatus.RUNNING
            step.attempt = attempt
            step.started_at = datetime.now(UTC)
            step.completed_at = None
            step.error = None
            step.input = step_input
            job.current_step = index
            state_machine.touched(work, job)

        await self._run(action)

    async def step_finished(
        self,
        *,
        tenant: str,
        number: int,
        index: int,
        output: Any = None,
        error: str | None = None,
        attempt: int | None = None,
    ) -> None:
        """Record a step's end; the end of an `attempt` older than the step's latest (a timed-out
        attempt whose clean-up finished after the retry began) is ignored."""

        async def action(work: UnitOfWork) -> None:
            job, step = await _job_step(work, tenant, number, index)
            if attempt is not None and attempt < step.attempt:
                return
            step.status = StepStatus.FAILED if error is not None else StepStatus.COMPLETED
            step.completed_at = datetime.now(UTC)
            step.output = output
            step.error = error
            cost = _reported_cost(output)
            if cost is not None:
                job.cost_usd = (job.cost_usd or 0.0) + cost
            state_machine.touched(work, job)

        await self._run(action)

    async def open_gate(self, *, tenant: str, number: int, index: int) -> None:
        """An approval step is reached: the job waits (WAITING) for a person."""

        async def action(work: UnitOfWork) -> str:
            job, step = await _job_step(work, tenant, number, index)
            step.status = StepStatus.RUNNING
            step.started_at = datetime.now(UTC)
            job.current_step = index
            waiting = f"waiting for approval of step {step.name!r}"
            if job.status is JobStatus.RUNNING:
                await state_machine.transition(
                    work, job, JobStatus.WAITING, actor=SYSTEM, message=waiting
                )
            else:
                state_machine.touched(work, job)
            return waiting

        waiting = await self._run(action)
        await self.append_logs(tenant=tenant, number=number, lines=[(LogStream.SYSTEM, waiting)])

    async def close_gate(
        self,
        *,
        tenant: str,
        number: int,
        index: int,
        approved: bool,
        actor: str | None,
        message: str | None,
    ) -> None:
        """Close the approval step, and say in the log who decided. The job's status and event
        were recorded by the action; the step gets no output, so it never becomes the job's."""
        decision = "approved" if approved else "rejected"
        await self.step_finished(
            tenant=tenant,
            number=number,
            index=index,
            error=None if approved else (message or decision),
        )
        line = f"{decision} by {actor or 'anonymous'}" + (f": {message}" if message else "")
        await self.append_logs(tenant=tenant, number=number, lines=[(LogStream.SYSTEM, line)])

    async def append_logs(
        self, *, tenant: str, number: int, lines: Sequence[tuple[LogStream, str]]
    ) -> None:
        """Append lines to the job's log, numbered after the last one."""
        if not lines:
            return

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            last = await work.session.scalar(
                select(func.max(LogLine.sequence)).where(LogLine.job_number == number)
            )
            now = datetime.now(UTC)
            for offset, (stream, message) in enumerate(lines, start=1):
                sequence = (last or 0) + offset
                work.session.add(
                    LogLine(
                        tenant_id=tenant,
                        job_number=job.number,
                        sequence=sequence,
                        stream=stream,
                        message=message,
                        at=now,
                    )
                )
                work.notify(LogAppended(tenant=tenant, job_number=number, sequence=sequence))

        await self._run(action)

    async def finish(
        self,
        *,
        tenant: str,
        number: int,
        status: JobStatus,
        error: str | None,
        agent_name: str | None,
    ) -> None:
        """Teardown's record: the output, the final status (unless an action already set one),
        no step left RUNNING, and the agent back to ONLINE when it has nothing else running."""

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            if job.status is JobStatus.PAUSED and status is JobStatus.COMPLETED:
                # Paused after the workflow's last check: there is nothing left to pause.
                await state_machine.transition(
                    work, job, JobStatus.RUNNING, actor=SYSTEM, message="no steps left to pause"
                )
            if job.status not in FINAL_STATUSES:
                if status is JobStatus.COMPLETED:
                    job.output = await _job_output(work.session, job, agent_name)
                job.error = error
                await state_machine.transition(
                    work, job, status, actor=SYSTEM, message=error or status.value.lower()
                )
            await _stop_running_steps(work.session, number, reason=error or job.status.value)
            if agent_name is not None:
                await _release(work.session, tenant, agent_name, number)

        await self._run(action)

    async def agent_seen(
        self, *, tenant: str, name: str, hostname: str | None, status: AgentStatus | None = None
    ) -> None:
        """An agent's heartbeat: registers it on first sight and keeps `lastSeenAt`.

        Without a status it stays BUSY or ONLINE as its jobs made it (claim and release set
        those), coming back ONLINE if it was OFFLINE.
        """
        async with self._session_factory() as session, session.begin():
            statement = select(Agent).where(Agent.tenant_id == tenant, Agent.name == name)
            agent = await session.scalar(statement) or Agent(
                tenant_id=tenant, name=name, status=AgentStatus.OFFLINE
            )
            agent.hostname = hostname or agent.hostname
            if status is not None:
                agent.status = status
            elif agent.status is AgentStatus.OFFLINE:
                agent.status = AgentStatus.ONLINE
            agent.last_seen_at = datetime.now(UTC)
            session.add(agent)

    async def _run(self, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await run_retrying(self._session_factory, self._bus, action)


def _reported_cost(output: Any) -> float | None:
    """A step reports what it cost by writing `{"cost_usd": 0.12, ...}` as its output."""
    cost = output.get(COST_KEY) if isinstance(output, dict) else None
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        return float(cost)
    return None


async def _job_step(work: UnitOfWork, tenant: str, number: int, index: int) -> tuple[Job, JobStep]:
    job = await state_machine.locked_job(work, tenant, number)
    step = await work.session.scalar(
        select(JobStep).where(JobStep.job_number == number, JobStep.index == index)
    )
    if step is None:
        raise NotFound(f"job #{number} has no step {index}", field="step")
    return job, step


async def _steps(session: AsyncSession, number: int) -> list[JobStep]:
    statement = select(JobStep).where(JobStep.job_number == number).order_by(JobStep.index)
    return list(await session.scalars(statement))


async def _agent_for(session: AsyncSession, job: Job) -> Agent:
    if job.agent_id is not None:
        return await session.get_one(Agent, job.agent_id)
    busy_last = case((Agent.status == AgentStatus.ONLINE, 0), else_=1)
    statement = (
        select(Agent)
        .where(Agent.tenant_id == job.tenant_id, Agent.status != AgentStatus.OFFLINE)
        .order_by(busy_last, Agent.name)
    )
    agent = await session.scalar(statement.limit(1))
    if agent is None:
        raise InvalidArgument("no agent is online to run the job", field="agent")
    return agent


async def _job_output(session: AsyncSession, job: Job, agent_name: str | None) -> Any:
    """The last step output written, or a sentence saying where the workflow completed."""
    statement = (
        select(JobStep.output)
        .where(JobStep.job_number == job.number)
        .order_by(JobStep.index.desc())
    )
    for output in await session.scalars(statement):
        if output is not None:
            return output
    workflow = await session.get_one(Workflow, job.workflow_id)
    return f"Workflow {workflow.slug} completed on {agent_name or 'no agent'}"


async def _stop_running_steps(session: AsyncSession, number: int, *, reason: str) -> None:
    """A step whose attempt timed out may still be RUNNING when the job ends: it failed.
    (The agent's own record of that attempt, if it comes later, says more.)"""
    statement = select(JobStep).where(
        JobStep.job_number == number, JobStep.status == StepStatus.RUNNING
    )
    for step in await session.scalars(statement):
        step.status = StepStatus.FAILED
        step.completed_at = datetime.now(UTC)
        step.error = step.error or reason


async def _release(session: AsyncSession, tenant: str, agent_name: str, number: int) -> None:
    agent = await agent_named(session, tenant=tenant, name=agent_name)
    busy = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.agent_id == agent.id, Job.number != number, Job.status.in_(_BUSY_STATUSES))
    )
    if agent.status is not AgentStatus.OFFLINE:
        agent.status = AgentStatus.BUSY if busy else AgentStatus.ONLINE

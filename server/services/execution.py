"""Writes made while a job runs: start, agent claim and release, steps, gates, logs, the end.

The job workflow's activities call these (on the control-plane worker and on agents); status
changes go through the same state machine as the API's actions.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, Job, JobStep, LogLine, StepAttempt, Workflow
from server.domain.actors import SCHEDULER, SYSTEM
from server.domain.enums import AgentStatus, JobStatus, LogStream, StepStatus
from server.domain.errors import InvalidArgument, NotFound
from server.domain.rules import ACTIVE_STATUSES, FINAL_STATUSES
from server.events import EventBus, LogAppended
from server.reads.rows import agent_named, jobs_by_number

from . import state_machine
from .chains import with_follow_ups
from .queue import Assigned, hand_out, lock_queue, release, requeue
from .unit_of_work import UnitOfWork, run_retrying

T = TypeVar("T")
COST_KEY = "cost_usd"
_BUSY_STATUSES = ACTIVE_STATUSES - {JobStatus.SCHEDULED, JobStatus.PENDING}


@dataclass(frozen=True)
class PlannedJob:
    job: Job
    workflow: Workflow
    steps: list[JobStep]


@dataclass(frozen=True)
class AttemptEnd:
    """How one attempt of a step ended: `error` None when it succeeded."""

    output: Any = None
    error: str | None = None
    exit_code: int | None = None
    error_detail: str | None = None
    cancelled: bool = False
    """Stopped by a cancellation: the step did not fail, its error says it was stopped."""


class ExecutionService:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._session_factory = session_factory
        self._bus = bus

    async def plan(self, *, tenant: str, number: int) -> PlannedJob | None:
        """The job as Init reads it; None when it already ended (cancelled before its workflow
        began)."""

        async def action(work: UnitOfWork) -> PlannedJob | None:
            job = await state_machine.locked_job(work, tenant, number)
            if job.status in FINAL_STATUSES:
                return None
            workflow = await work.session.get_one(Workflow, job.workflow_id)
            return PlannedJob(job, workflow, await _steps(work.session, number))

        return await self._run(action)

    async def record_start(self, *, tenant: str, number: int, agent_name: str) -> None:
        """The job got its agent: it is RUNNING (once; a repeat changes nothing)."""

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            if job.status in (JobStatus.PENDING, JobStatus.SCHEDULED):
                await state_machine.transition(
                    work,
                    job,
                    JobStatus.RUNNING,
                    actor=SCHEDULER,
                    message=f"picked up by {agent_name}",
                )

        await self._run(action)

    async def check_agent(self, *, tenant: str, number: int, agent_name: str) -> None:
        """Agent Setup on the agent: the job is still open and holds a slot of this agent."""

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            agent = await agent_named(work.session, tenant=tenant, name=agent_name)
            if job.status in FINAL_STATUSES:
                raise InvalidArgument(f"job #{number} is {job.status.value}", field="id")
            if job.agent_id != agent.id or job.assigned_at is None:
                raise InvalidArgument(
                    f"job #{number} is not assigned to agent {agent_name}", field="agent"
                )
            agent.status = AgentStatus.BUSY
            agent.last_seen_at = datetime.now(UTC)

        await self._run(action)

    async def definition(self, *, tenant: str, number: int) -> dict[str, Any]:
        """The definition the job runs with (frozen at creation, or its workflow's for older
        jobs)."""
        async with self._session_factory() as session:
            job = (await jobs_by_number(session, tenant=tenant, numbers=[number])).get(number)
            if job is None:
                raise NotFound(f"job #{number} does not exist", field="id")
            if job.definition is not None:
                return job.definition
            workflow = await session.get_one(Workflow, job.workflow_id)
            return workflow.definition or {}

    async def step_started(
        self,
        *,
        tenant: str,
        number: int,
        index: int,
        attempt: int,
        agent_name: str,
        step_input: Any,
        lines: Sequence[tuple[LogStream, str]] = (),
    ) -> None:
        """The attempt began on the agent; `lines` open its log, in the same transaction."""

        async def action(work: UnitOfWork) -> None:
            job, step = await _job_step(work, tenant, number, index)
            now = datetime.now(UTC)
            step.status = StepStatus.RUNNING
            step.attempt = attempt
            step.started_at = now
            step.completed_at = None
            step.error = None
            step.error_detail = None
            step.input = step_input
            job.current_step = index
            agent = await agent_named(work.session, tenant=tenant, name=agent_name)
            row = await _attempt(work.session, number, index, attempt) or StepAttempt(
                tenant_id=tenant, job_number=number, step_index=index, attempt=attempt
            )
            row.status, row.agent_id, row.started_at = StepStatus.RUNNING, agent.id, now
            work.session.add(row)
            state_machine.touched(work, job)
            await _insert_lines(work, job, lines, step=index, attempt=attempt)

        await self._run(action)

    async def step_finished(
        self,
        *,
        tenant: str,
        number: int,
        index: int,
        attempt: int,
        end: AttemptEnd,
        lines: Sequence[tuple[LogStream, str]] = (),
    ) -> None:
        """Record an attempt's end, with the last `lines` of its log; the end of an attempt
        older than the step's latest (a timed-out attempt whose clean-up finished after the
        retry began) only updates that attempt."""

        async def action(work: UnitOfWork) -> None:
            job, step = await _job_step(work, tenant, number, index)
            await _insert_lines(work, job, lines, step=index, attempt=attempt)
            now = datetime.now(UTC)
            row = await _attempt(work.session, number, index, attempt)
            if row is not None:
                row.status = StepStatus.FAILED if end.error is not None else StepStatus.COMPLETED
                row.completed_at, row.exit_code, row.error = now, end.exit_code, end.error
            if attempt < step.attempt:
                return
            error = end.error if end.cancelled else _step_error(step, end.error)
            _end_step(step, now, error=error, output=end.output)
            step.error_detail = end.error_detail
            cost = _reported_cost(end.output)
            if cost is not None:
                job.cost_usd = (job.cost_usd or 0.0) + cost
            state_machine.touched(work, job)

        await self._run(action)

    async def attempt_lost(
        self,
        *,
        tenant: str,
        number: int,
        agent_name: str,
        reason: str,
        index: int | None = None,
        attempt: int | None = None,
    ) -> None:
        """The agent stopped answering (during step `index`, or before its first step): the
        attempt failed with `reason`, the agent is OFFLINE and the job waits for another."""

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            now = datetime.now(UTC)
            if index is not None and attempt is not None:
                _, step = await _job_step(work, tenant, number, index)
                row = await _attempt(work.session, number, index, attempt)
                if row is not None and row.status is StepStatus.RUNNING:
                    row.status, row.completed_at, row.error = StepStatus.FAILED, now, reason
                if step.attempt == attempt:
                    _end_step(step, now, error=_step_error(step, reason), output=None)
            agent = await agent_named(work.session, tenant=tenant, name=agent_name)
            agent.status = AgentStatus.OFFLINE
            if job.status not in FINAL_STATUSES:
                requeue(job, now)
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

        async def action(work: UnitOfWork) -> None:
            job, step = await _job_step(work, tenant, number, index)
            error = None if approved else (message or decision)
            _end_step(step, datetime.now(UTC), error=error, output=None)
            state_machine.touched(work, job)

        await self._run(action)
        line = f"{decision} by {actor or 'anonymous'}" + (f": {message}" if message else "")
        await self.append_logs(tenant=tenant, number=number, lines=[(LogStream.SYSTEM, line)])

    async def append_logs(
        self,
        *,
        tenant: str,
        number: int,
        lines: Sequence[tuple[LogStream, str]],
        step: int | None = None,
        attempt: int | None = None,
    ) -> None:
        """Append lines to the job's log, numbered after the last one; `step` and `attempt`
        say which process wrote them (None for the job's own lines)."""
        if not lines:
            return

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            await _insert_lines(work, job, lines, step=step, attempt=attempt)

        await self._run(action)

    async def collect_outputs(
        self, *, tenant: str, number: int, status: JobStatus, agent_name: str | None
    ) -> None:
        """Teardown: a completed job's output is its last step output (or says where it ran)."""
        if status is not JobStatus.COMPLETED:
            return

        async def action(work: UnitOfWork) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            if job.status not in FINAL_STATUSES:
                job.output = await _job_output(work.session, job, agent_name)

        await self._run(action)

    async def finish(
        self,
        *,
        tenant: str,
        number: int,
        status: JobStatus,
        error: str | None,
        agent_name: str | None,
    ) -> list[Assigned]:
        """Teardown's record: the final status (unless an action already set one), no step left
        RUNNING, the job's slot freed and handed out in the same transaction, and the agent
        back to ONLINE when it has nothing else running. Returns the jobs that got a slot: the
        caller wakes them (else the agents' heartbeats do)."""

        async def action(work: UnitOfWork) -> list[Assigned]:
            await lock_queue(work.session, tenant)
            job = await state_machine.locked_job(work, tenant, number)
            if job.status is JobStatus.PAUSED and status is JobStatus.COMPLETED:
                # Paused after the workflow's last check: there is nothing left to pause.
                await state_machine.transition(
                    work, job, JobStatus.RUNNING, actor=SYSTEM, message="no steps left to pause"
                )
            if job.status not in FINAL_STATUSES:
                job.error = error
                await state_machine.transition(
                    work, job, status, actor=SYSTEM, message=error or status.value.lower()
                )
            await _stop_running_steps(work.session, number, reason=error or job.status.value)
            release(job)
            if agent_name is not None:
                await _release(work.session, tenant, agent_name, number)
            return await hand_out(work, tenant)

        return await self._run(action)

    async def agent_seen(
        self,
        *,
        tenant: str,
        name: str,
        hostname: str | None,
        status: AgentStatus | None = None,
        slots: int | None = None,
        workflows: Sequence[str] | None = None,
    ) -> None:
        """An agent's heartbeat: registers it on first sight and keeps `lastSeenAt` (and, when
        given, the slots and workflows it declares).

        Without a status it stays BUSY or ONLINE as its jobs made it (claim and release set
        those), coming back ONLINE if it was OFFLINE.
        """
        async with self._session_factory() as session, session.begin():
            statement = select(Agent).where(Agent.tenant_id == tenant, Agent.name == name)
            agent = await session.scalar(statement) or Agent(
                tenant_id=tenant, name=name, status=AgentStatus.OFFLINE
            )
            agent.hostname = hostname or agent.hostname
            if slots is not None:
                agent.slots = slots
            if workflows is not None:
                agent.workflows = list(workflows)
            if status is not None:
                agent.status = status
            elif agent.status is AgentStatus.OFFLINE:
                agent.status = AgentStatus.ONLINE
            agent.last_seen_at = datetime.now(UTC)
            session.add(agent)

    async def _run(self, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await run_retrying(self._session_factory, self._bus, with_follow_ups(action))


async def _insert_lines(
    work: UnitOfWork,
    job: Job,
    lines: Sequence[tuple[LogStream, str]],
    *,
    step: int | None,
    attempt: int | None,
) -> None:
    """Append lines to the log of `job` (locked by `work`), numbered after the last one."""
    if not lines:
        return
    last = await work.session.scalar(
        select(func.max(LogLine.sequence)).where(LogLine.job_number == job.number)
    )
    now = datetime.now(UTC)
    first = (last or 0) + 1
    # One multi-row INSERT (no ORM objects): a chatty step writes thousands at once.
    await work.session.execute(
        insert(LogLine),
        [
            {
                "tenant_id": job.tenant_id,
                "job_number": job.number,
                "sequence": sequence,
                "step": step,
                "attempt": attempt,
                "stream": stream,
                "message": message,
                "at": now,
            }
            for sequence, (stream, message) in enumerate(lines, start=first)
        ],
    )
    # One notice for the batch: readers fetch every line after the last one they saw.
    last_sequence = first + len(lines) - 1
    work.notify(LogAppended(tenant=job.tenant_id, job_number=job.number, sequence=last_sequence))


def _end_step(step: JobStep, now: datetime, *, error: str | None, output: Any) -> None:
    step.status = StepStatus.FAILED if error is not None else StepStatus.COMPLETED
    step.completed_at = now
    step.output = output
    step.error = error


def _step_error(step: JobStep, error: str | None) -> str | None:
    """`Step 2 (run-tests) failed: exited with code 1` (steps count from 1 here)."""
    return None if error is None else f"Step {step.index + 1} ({step.name}) failed: {error}"


async def _attempt(
    session: AsyncSession, number: int, index: int, attempt: int
) -> StepAttempt | None:
    return await session.scalar(
        select(StepAttempt).where(
            StepAttempt.job_number == number,
            StepAttempt.step_index == index,
            StepAttempt.attempt == attempt,
        )
    )


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

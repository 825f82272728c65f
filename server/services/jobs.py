"""Job actions: dispatch, cancel, resend, approve, reject, pause and resume.

Every action is one unit of work: load the job (locked where the database can), check the
move through the state machine, write, commit, then publish. A write that lost a race to
another writer is retried on fresh data, so two actions never both apply to the same state.
What the job's workflow must be told (its start, a signal, its cancellation) is written to
the outbox in the same unit of work and sent after commit, never from inside it.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Job, Workflow
from server.domain.actors import SCHEDULER
from server.domain.dispatch import DispatchRequest, rerun_input
from server.domain.enums import DispatchSource, EffortLevel, JobStatus
from server.domain.errors import (
    AlreadyResent,
    DomainError,
    InvalidArgument,
    InvalidTransition,
    NotFound,
)
from server.domain.filters import JobFilter
from server.domain.rules import CANCELLABLE_STATUSES, FINAL_STATUSES, RESENDABLE_STATUSES
from server.events import EventBus
from server.reads.jobs import filter_conditions
from server.reads.rows import agent_named

from . import state_machine
from .chains import with_follow_ups
from .idempotency import check_same_request
from .job_definition import add_steps, freeze, resolve_effort
from .new_jobs import copy_steps, dispatch_agent, new_job, validate_input, workflow_named
from .orchestrator import JobSignal
from .outbox import CANCEL, GONE_NOTE, OutboxDispatcher, outbox_entry, owe_message
from .unit_of_work import UnitOfWork, run_retrying

T = TypeVar("T")


class JobService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        outbox: OutboxDispatcher,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self._outbox = outbox

    async def _run(self, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await run_retrying(self._session_factory, self._bus, with_follow_ups(action))

    async def dispatch(self, *, tenant: str, request: DispatchRequest, actor: str | None) -> Job:
        job = await self._create(tenant, request, actor=actor, message="dispatched")
        return await self._started(job)

    async def dispatch_scheduled(
        self, *, tenant: str, request: DispatchRequest, schedule_id: int, run_id: str
    ) -> Job:
        """The job of one run of a schedule, made once per run (the run's id is its idempotency
        key). The run starts the job's workflow itself, as its child, so no outbox row."""
        return await self._create(
            tenant,
            replace(request, idempotency_key=run_id, source=DispatchSource.SCHEDULE),
            actor=SCHEDULER,
            message=f"run of schedule #{schedule_id}",
            schedule_id=schedule_id,
        )

    async def _create(
        self,
        tenant: str,
        request: DispatchRequest,
        *,
        actor: str | None,
        message: str,
        schedule_id: int | None = None,
    ) -> Job:
        async def action(work: UnitOfWork) -> Job:
            parent = await _parent(work.session, tenant, request.follow_up_of)
            asked = _as_follow_up(parent, request)
            existing = await _by_idempotency_key(work.session, tenant, request.idempotency_key)
            if existing is not None:
                return await _repeated(work.session, tenant, existing, asked)
            validate_ticket_url(request.ticket_url)
            workflow = await workflow_named(work.session, tenant, request.workflow)
            validate_input(asked.input, workflow.input_schema)
            agent = await dispatch_agent(work.session, tenant, request.agent)
            definition = freeze(workflow)
            level, effort = resolve_effort(definition, request.effort_level, workflow=workflow.slug)
            job = new_job(tenant, asked, workflow, agent, definition)
            job.effort_level, job.effort = level, effort
            job.schedule_id = schedule_id
            if parent is not None:
                job.parent_number = parent.number
                job.chain_depth = parent.chain_depth + 1
            work.session.add(job)
            await state_machine.record_created(work, job, actor=actor, message=message)
            add_steps(work.session, job, definition)
            if schedule_id is None:
                work.session.add(outbox_entry(job))
            else:
                job.temporal_workflow_id = job.pipeline_id
            return job

        try:
            return await self._run(action)
        except IntegrityError:
            # A concurrent dispatch with the same idempotency key won: answer with its job.
            async with self._session_factory() as session:
                existing = await _by_idempotency_key(session, tenant, request.idempotency_key)
                if existing is None:
                    raise
                return await _repeated(session, tenant, existing, request)

    async def cancel(
        self, *, tenant: str, number: int, actor: str | None, reason: str | None = None
    ) -> Job:
        """Record the cancellation, then cancel the workflow (its running step is killed).

        A job with no workflow in Temporal is cancelled in the database alone, and says so.
        """
        message = reason or "cancelled"

        async def action(work: UnitOfWork) -> Job:
            job = await state_machine.locked_job(work, tenant, number)
            owed = owe_message(work, job, CANCEL, actor=actor, text=message)
            note = "" if owed else f" ({GONE_NOTE})"
            await state_machine.transition(
                work, job, JobStatus.CANCELLED, actor=actor, message=message + note
            )
            return job

        return await self._told(await self._run(action))

    async def cancel_many(
        self,
        *,
        tenant: str,
        numbers: Sequence[int] | None,
        job_filter: JobFilter | None,
        actor: str | None,
    ) -> tuple[list[Job], list[tuple[int, DomainError]]]:
        """Cancel listed jobs, or every cancellable job matching the filter; errors per job."""
        targets = list(numbers or ())
        if job_filter is not None:
            targets += await self._cancellable(tenant, job_filter)
        cancelled: list[Job] = []
        failures: list[tuple[int, DomainError]] = []
        for number in dict.fromkeys(targets):
            try:
                cancelled.append(await self.cancel(tenant=tenant, number=number, actor=actor))
            except DomainError as error:
                failures.append((number, error))
        return cancelled, failures

    async def pause(self, *, tenant: str, number: int, actor: str | None) -> Job:
        return await self._move(
            tenant,
            number,
            JobStatus.PAUSED,
            actor=actor,
            message="paused",
            only=JobStatus.RUNNING,
            signal=JobSignal.PAUSE,
        )

    async def resume(self, *, tenant: str, number: int, actor: str | None) -> Job:
        return await self._move(
            tenant,
            number,
            JobStatus.RUNNING,
            actor=actor,
            message="resumed",
            only=JobStatus.PAUSED,
            signal=JobSignal.RESUME,
        )

    async def approve(
        self, *, tenant: str, number: int, actor: str | None, comment: str | None = None
    ) -> Job:
        return await self._move(
            tenant,
            number,
            JobStatus.RUNNING,
            actor=actor,
            message=f"approved: {comment}" if comment else "approved",
            only=JobStatus.WAITING,
            signal=JobSignal.APPROVE,
        )

    async def reject(
        self, *, tenant: str, number: int, actor: str | None, reason: str | None = None
    ) -> Job:
        message = f"rejected: {reason}" if reason else "rejected"
        return await self._move(
            tenant,
            number,
            JobStatus.FAILED,
            actor=actor,
            message=message,
            only=JobStatus.WAITING,
            signal=JobSignal.REJECT,
            error=message,
        )

    async def resend(
        self, *, tenant: str, number: int, actor: str | None, from_failed_step: bool = False
    ) -> Job:
        async def action(work: UnitOfWork) -> Job:
            original = await state_machine.locked_job(work, tenant, number)
            if original.resent_as_number is not None:
                raise AlreadyResent(
                    f"job #{number} was already resent as job #{original.resent_as_number}",
                    field="id",
                )
            if original.status not in RESENDABLE_STATUSES:
                raise InvalidTransition(
                    f"job #{number} is {original.status.value}: only failed or cancelled jobs "
                    "can be resent",
                    field="id",
                )
            job = _copy_of(
                original, source=DispatchSource.RESEND, resent_from_number=original.number
            )
            work.session.add(job)
            await state_machine.record_created(
                work, job, actor=actor, message=f"resent from job #{original.number}"
            )
            original.resent_as_number = job.number
            await copy_steps(work.session, original, job, from_failed_step=from_failed_step)
            work.session.add(outbox_entry(job))
            state_machine.touched(work, original)
            return job

        try:
            job = await self._run(action)
        except IntegrityError:
            raise AlreadyResent(f"job #{number} was already resent", field="id") from None
        return await self._started(job)

    async def rerun(
        self,
        *,
        tenant: str,
        number: int,
        actor: str | None,
        job_input: dict[str, Any] | None = None,
        agent: str | None = None,
        effort_level: EffortLevel | None = None,
    ) -> Job:
        """A new job from a finished one (any end status, as often as wanted) with its
        workflow, steps, input, trigger and context, unless changed. The original is not
        touched: it can still be resent once."""

        async def action(work: UnitOfWork) -> Job:
            original = await state_machine.locked_job(work, tenant, number)
            if original.status not in FINAL_STATUSES:
                raise InvalidTransition(
                    f"job #{number} is {original.status.value}: only a COMPLETED, FAILED or "
                    "CANCELLED job can be re-run",
                    field="id",
                )
            workflow = await work.session.get_one(Workflow, original.workflow_id)
            changes: dict[str, Any] = {"input": rerun_input(original.input or {}, job_input)}
            if job_input is not None:
                validate_input(job_input, workflow.input_schema)
            if agent:
                chosen = await agent_named(work.session, tenant=tenant, name=agent)
                changes |= {"agent_id": chosen.id, "agent_pinned": True}
            if effort_level is not None:
                level, effort = resolve_effort(
                    original.definition or {}, effort_level, workflow=workflow.slug
                )
                changes |= {"effort_level": level, "effort": effort}
            job = _copy_of(
                original, source=DispatchSource.RERUN, rerun_of_number=original.number, **changes
            )
            work.session.add(job)
            await state_machine.record_created(
                work, job, actor=actor, message=f"re-run of job #{original.number}"
            )
            await copy_steps(work.session, original, job, from_failed_step=False)
            work.session.add(outbox_entry(job))
            return job

        return await self._started(await self._run(action))

    async def _started(self, job: Job) -> Job:
        """Start the new job's workflow now if Temporal answers (else the outbox keeps it)."""
        if await self._outbox.deliver(job.number):
            async with self._session_factory() as session:
                return await session.get(Job, job.number) or job
        return job

    async def _told(self, job: Job) -> Job:
        """After commit: send what the change owes the job's workflow now if Temporal answers
        (else the outbox keeps it for the worker's next round)."""
        await self._outbox.deliver(job.number)
        return job

    async def _move(
        self,
        tenant: str,
        number: int,
        target: JobStatus,
        *,
        actor: str | None,
        message: str,
        only: JobStatus,
        signal: JobSignal,
        error: str | None = None,
    ) -> Job:
        """An action that moves a job in one status to `target` and signals its workflow."""

        async def action(work: UnitOfWork) -> Job:
            job = await state_machine.locked_job(work, tenant, number)
            await state_machine.transition(
                work, job, target, actor=actor, message=message, only_from={only}
            )
            if error is not None:
                job.error = error
            owe_message(work, job, signal, actor=actor, text=message)
            return job

        return await self._told(await self._run(action))

    async def _cancellable(self, tenant: str, job_filter: JobFilter) -> list[int]:
        async with self._session_factory() as session:
            conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
            statement = select(Job.number).where(*conditions, Job.status.in_(CANCELLABLE_STATUSES))
            return list(await session.scalars(statement.order_by(Job.number)))


async def _by_idempotency_key(session: AsyncSession, tenant: str, key: str | None) -> Job | None:
    if key is None:
        return None
    statement = select(Job).where(Job.tenant_id == tenant, Job.idempotency_key == key)
    return await session.scalar(statement)


async def _repeated(session: AsyncSession, tenant: str, job: Job, request: DispatchRequest) -> Job:
    """The job an earlier dispatch with the request's idempotency key made, if it asked the
    same (else a VALIDATION error naming the key)."""
    workflow = await workflow_named(session, tenant, request.workflow)
    agent = await dispatch_agent(session, tenant, request.agent)
    check_same_request(
        job, request, workflow_id=workflow.id, agent_id=agent.id if agent is not None else None
    )
    return job


def _copy_of(original: Job, **changes: Any) -> Job:
    """A new PENDING job with the original's workflow, frozen definition, agent (when the
    original was pinned to it), effort, input and context, changed by `changes`."""
    fields: dict[str, Any] = {
        "tenant_id": original.tenant_id,
        "workflow_id": original.workflow_id,
        "agent_id": original.agent_id if original.agent_pinned else None,
        "agent_pinned": original.agent_pinned,
        "status": JobStatus.PENDING,
        "definition": original.definition,
        "effort_level": original.effort_level,
        "effort": original.effort,
        "input": original.input,
        "hint": original.hint,
        "ticket_key": original.ticket_key,
        "ticket_url": original.ticket_url,
        "created_at": datetime.now(UTC),
        "slack_channel": original.slack_channel,
        "slack_thread_ts": original.slack_thread_ts,
        "step_count": original.step_count,
    }
    return Job(**(fields | changes))


async def _parent(session: AsyncSession, tenant: str, number: int | None) -> Job | None:
    """The finished job a follow-up follows (of the same tenant), or None."""
    if number is None:
        return None
    parent = await session.scalar(select(Job).where(Job.tenant_id == tenant, Job.number == number))
    if parent is None:
        raise NotFound(f"job #{number} does not exist", field="followUpOf")
    if parent.status not in FINAL_STATUSES:
        raise InvalidTransition(
            f"job #{number} is {parent.status.value}: only a finished job can be followed up",
            field="followUpOf",
        )
    return parent


def _as_follow_up(parent: Job | None, request: DispatchRequest) -> DispatchRequest:
    """A follow-up's request: source FOLLOW_UP, its input over the parent's output when that
    output is an object."""
    if parent is None:
        return request
    base = parent.output if isinstance(parent.output, dict) else {}
    return replace(request, input={**base, **request.input}, source=DispatchSource.FOLLOW_UP)


def validate_ticket_url(url: str | None) -> None:
    """A ticket link is shown to every viewer as a link: only http(s), never `javascript:`."""
    if url is None:
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidArgument("ticketUrl must be an http or https URL", field="ticketUrl")

"""Job actions: dispatch, cancel, resend, approve, reject, pause and resume.

Every action is one unit of work: load the job (locked where the database can), check the
move through the state machine, write, commit, then publish. A write that lost a race to
another writer is retried on fresh data, so two actions never both apply to the same state.
What the job's workflow must be told (its start, a signal, its cancellation) is written to
the outbox in the same unit of work and sent after commit, never from inside it.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, Job, JobStep, Workflow
from server.domain.dispatch import DispatchRequest
from server.domain.enums import DispatchSource, JobStatus, StepStatus
from server.domain.errors import (
    AlreadyResent,
    DomainError,
    InvalidArgument,
    InvalidTransition,
    NotFound,
)
from server.domain.filters import JobFilter
from server.domain.rules import CANCELLABLE_STATUSES, RESENDABLE_STATUSES
from server.events import EventBus
from server.reads.jobs import filter_conditions, workflow_ids_for
from server.reads.rows import agent_named

from . import state_machine
from .idempotency import check_same_request
from .job_definition import add_steps, freeze, resolve_effort
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
        return await run_retrying(self._session_factory, self._bus, action)

    async def dispatch(self, *, tenant: str, request: DispatchRequest, actor: str | None) -> Job:
        async def action(work: UnitOfWork) -> Job:
            existing = await _by_idempotency_key(work.session, tenant, request.idempotency_key)
            if existing is not None:
                return await _repeated(work.session, tenant, existing, request)
            workflow = await _workflow(work.session, tenant, request.workflow)
            validate_input(request.input, workflow.input_schema)
            agent = await _agent(work.session, tenant, request.agent)
            definition = freeze(workflow)
            level, effort = resolve_effort(definition, request.effort_level, workflow=workflow.slug)
            job = _new_job(tenant, request, workflow, agent, definition)
            job.effort_level, job.effort = level, effort
            work.session.add(job)
            await state_machine.record_created(work, job, actor=actor, message="dispatched")
            add_steps(work.session, job, definition)
            work.session.add(outbox_entry(job))
            return job

        try:
            job = await self._run(action)
        except IntegrityError:
            # A concurrent dispatch with the same idempotency key won: answer with its job.
            async with self._session_factory() as session:
                existing = await _by_idempotency_key(session, tenant, request.idempotency_key)
                if existing is None:
                    raise
                return await _repeated(session, tenant, existing, request)
        return await self._started(job)

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
            job = _copy_for_resend(original)
            work.session.add(job)
            await state_machine.record_created(
                work, job, actor=actor, message=f"resent from job #{original.number}"
            )
            original.resent_as_number = job.number
            await _copy_steps(work.session, original, job, from_failed_step=from_failed_step)
            work.session.add(outbox_entry(job))
            state_machine.touched(work, original)
            return job

        try:
            job = await self._run(action)
        except IntegrityError:
            raise AlreadyResent(f"job #{number} was already resent", field="id") from None
        return await self._started(job)

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
    workflow = await _workflow(session, tenant, request.workflow)
    agent = await _agent(session, tenant, request.agent) if request.agent is not None else None
    check_same_request(
        job, request, workflow_id=workflow.id, agent_id=agent.id if agent is not None else None
    )
    return job


async def _workflow(session: AsyncSession, tenant: str, name: str) -> Workflow:
    ids = await workflow_ids_for(session, tenant=tenant, names=[name])
    workflow = await session.get(Workflow, next(iter(ids))) if ids else None
    if workflow is None:
        raise NotFound(f"workflow {name!r} does not exist", field="workflow")
    return workflow


async def _agent(session: AsyncSession, tenant: str, name: str | None) -> Agent | None:
    """The agent the dispatch names (it exists once it has started at least once)."""
    if name is None:
        return None
    return await agent_named(session, tenant=tenant, name=name)


def _new_job(
    tenant: str,
    request: DispatchRequest,
    workflow: Workflow,
    agent: Agent | None,
    definition: dict[str, Any],
) -> Job:
    scheduled = request.scheduled_for is not None and request.scheduled_for > datetime.now(UTC)
    return Job(
        tenant_id=tenant,
        workflow_id=workflow.id,
        agent_id=agent.id if agent is not None else None,
        agent_pinned=agent is not None,
        status=JobStatus.SCHEDULED if scheduled else JobStatus.PENDING,
        source=request.source,
        definition=definition,
        input=request.job_input,
        hint=request.hint,
        ticket_key=request.resolved_ticket_key,
        ticket_url=request.ticket_url,
        created_at=datetime.now(UTC),
        scheduled_for=request.scheduled_for if scheduled else None,
        idempotency_key=request.idempotency_key,
        automation_id=request.automation_id,
        step_count=0,
    )


def _copy_for_resend(original: Job) -> Job:
    """The same job again, with the definition the original ran (not today's)."""
    return Job(
        tenant_id=original.tenant_id,
        workflow_id=original.workflow_id,
        agent_id=original.agent_id if original.agent_pinned else None,
        agent_pinned=original.agent_pinned,
        status=JobStatus.PENDING,
        source=DispatchSource.RESEND,
        definition=original.definition,
        effort_level=original.effort_level,
        effort=original.effort,
        input=original.input,
        hint=original.hint,
        ticket_key=original.ticket_key,
        ticket_url=original.ticket_url,
        created_at=datetime.now(UTC),
        resent_from_number=original.number,
        slack_channel=original.slack_channel,
        slack_thread_ts=original.slack_thread_ts,
        step_count=original.step_count,
    )


async def _copy_steps(
    session: AsyncSession, original: Job, job: Job, *, from_failed_step: bool
) -> None:
    """The new job's steps; with `from_failed_step`, those before the failure are SKIPPED and
    keep the outputs they had."""
    steps = list(
        await session.scalars(
            select(JobStep).where(JobStep.job_number == original.number).order_by(JobStep.index)
        )
    )
    failed_at = next((s.index for s in steps if s.status is StepStatus.FAILED), None)
    for step in steps:
        carried = from_failed_step and failed_at is not None and step.index < failed_at
        session.add(
            JobStep(
                tenant_id=job.tenant_id,
                job_number=job.number,
                index=step.index,
                name=step.name,
                status=StepStatus.SKIPPED if carried else StepStatus.PENDING,
                input=step.input,
                output=step.output if carried else None,
            )
        )
    if from_failed_step and failed_at is not None:
        job.current_step = failed_at


def validate_input(job_input: Any, schema: dict[str, Any] | None) -> None:
    """Input validation against a workflow's JSON Schema, reported with the failing path."""
    if not isinstance(job_input, dict):
        raise InvalidArgument("input must be a JSON object", field="input")
    if schema is None:
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(job_input), key=lambda e: e.path)
    if errors:
        first = errors[0]
        path = "/".join(str(part) for part in first.absolute_path)
        where = f"input/{path}" if path else "input"
        raise InvalidArgument(f"{where}: {first.message}", field=where)

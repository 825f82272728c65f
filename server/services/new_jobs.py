"""The rows of a new job, shared by every way a job may start: its workflow and agent looked
up by name in the tenant, its input checked against the workflow's schema, the job itself,
and the steps it copies from another job."""

from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agent, Job, JobStep, Workflow
from server.domain.dispatch import DispatchRequest
from server.domain.enums import JobStatus, StepStatus
from server.domain.errors import InvalidArgument, NotFound
from server.reads.jobs import workflow_ids_for
from server.reads.rows import agent_named


async def workflow_named(session: AsyncSession, tenant: str, name: str) -> Workflow:
    ids = await workflow_ids_for(session, tenant=tenant, names=[name])
    workflow = await session.get(Workflow, next(iter(ids))) if ids else None
    if workflow is None:
        raise NotFound(f"workflow {name!r} does not exist", field="workflow")
    return workflow


async def dispatch_agent(session: AsyncSession, tenant: str, name: str | None) -> Agent | None:
    """The agent the dispatch names (it exists once it has started at least once)."""
    if name is None:
        return None
    return await agent_named(session, tenant=tenant, name=name)


def new_job(
    tenant: str,
    request: DispatchRequest,
    workflow: Workflow,
    agent: Agent | None,
    definition: dict[str, Any],
) -> Job:
    now = datetime.now(UTC)
    scheduled = request.scheduled_for is not None and request.scheduled_for > now
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
        created_at=now,
        # A job to run now joins the queue as it is dispatched, so the queue hands out slots
        # in dispatch order; a scheduled one joins when its workflow claims an agent.
        queued_at=None if scheduled else now,
        scheduled_for=request.scheduled_for if scheduled else None,
        idempotency_key=request.idempotency_key,
        automation_id=request.automation_id,
        step_count=0,
    )


async def copy_steps(
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

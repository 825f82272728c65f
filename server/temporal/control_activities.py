"""Control-plane activities: Init (validate the input, claim an agent, record the start),
agents lost, approval gates, and Teardown's records (collect the outputs, record the end)."""

from collections.abc import Callable
from typing import Any

from temporalio import activity

from server.domain.definition import queue_timeout
from server.domain.enums import JobStatus, StepStatus
from server.services.execution import ExecutionService, PlannedJob
from server.services.queue import QueueService
from server.workflows.definition import StepDefinition, parse_steps

from .activity_errors import domain_errors_are_final
from .contracts import (
    AgentClaim,
    AgentLost,
    Claim,
    GateUpdate,
    JobContext,
    JobPlan,
    JobRef,
    Outcome,
    StepPlan,
)
from .waker import JobWaker


class ControlActivities:
    def __init__(
        self,
        execution: ExecutionService,
        queue: QueueService,
        waker: JobWaker,
        *,
        heartbeat_timeout_seconds: float,
    ) -> None:
        self._execution = execution
        self._queue = queue
        self._waker = waker
        self._heartbeat_timeout_seconds = heartbeat_timeout_seconds

    @activity.defn(name="validate_input")
    async def validate_input(self, job: JobRef) -> JobPlan:
        """Init: the job is still open and its frozen definition reads; the plan of its run."""
        with domain_errors_are_final():
            planned = await self._execution.plan(tenant=job.tenant, number=job.job_number)
        if planned is None:
            return JobPlan(job.tenant, job.job_number, "", finished=True)
        return self._plan(planned)

    @activity.defn(name="claim_agent")
    async def claim_agent(self, job: JobRef) -> Claim:
        """Init: join the queue; the agent if a slot is free now (others that got one are
        woken)."""
        with domain_errors_are_final():
            claim = await self._queue.claim(tenant=job.tenant, number=job.job_number)
        await self._waker.wake(claim.others)
        if claim.agent_name is None:
            return Claim()
        return Claim(self._waker.assignment(job.tenant, claim.agent_name))

    @activity.defn(name="leave_queue")
    async def leave_queue(self, job: JobRef) -> Claim:
        """The queue timeout passed: leave the queue, unless a slot came meanwhile."""
        with domain_errors_are_final():
            agent, reason = await self._queue.leave(tenant=job.tenant, number=job.job_number)
        if agent is None:
            return Claim(reason=reason)
        return Claim(self._waker.assignment(job.tenant, agent))

    @activity.defn(name="record_start")
    async def record_start(self, claim: AgentClaim) -> str:
        """Init: the job is RUNNING on its agent; returns the agent's name."""
        with domain_errors_are_final():
            await self._execution.record_start(
                tenant=claim.tenant, number=claim.job_number, agent_name=claim.agent_name
            )
        return claim.agent_name

    @activity.defn(name="agent_lost")
    async def agent_lost(self, lost: AgentLost) -> None:
        with domain_errors_are_final():
            await self._execution.attempt_lost(
                tenant=lost.tenant,
                number=lost.job_number,
                agent_name=lost.agent_name,
                reason=lost.reason,
                index=lost.step_index,
                attempt=lost.attempt,
            )

    @activity.defn(name="open_gate")
    async def open_gate(self, gate: GateUpdate) -> None:
        with domain_errors_are_final():
            await self._execution.open_gate(
                tenant=gate.tenant, number=gate.job_number, index=gate.step_index
            )

    @activity.defn(name="close_gate")
    async def close_gate(self, gate: GateUpdate) -> None:
        with domain_errors_are_final():
            await self._execution.close_gate(
                tenant=gate.tenant,
                number=gate.job_number,
                index=gate.step_index,
                approved=bool(gate.approved),
                actor=gate.actor,
                message=gate.message,
            )

    @activity.defn(name="collect_outputs")
    async def collect_outputs(self, outcome: Outcome) -> None:
        """Teardown: a completed job's output."""
        with domain_errors_are_final():
            await self._execution.collect_outputs(
                tenant=outcome.tenant,
                number=outcome.job_number,
                status=JobStatus(outcome.status),
                agent_name=outcome.agent_name,
            )

    @activity.defn(name="record_end")
    async def record_end(self, outcome: Outcome) -> None:
        """Teardown: the final status, the slot freed and given to the next waiting job."""
        with domain_errors_are_final():
            assigned = await self._execution.finish(
                tenant=outcome.tenant,
                number=outcome.job_number,
                status=JobStatus(outcome.status),
                error=outcome.error,
                agent_name=outcome.agent_name,
            )
        await self._waker.wake(assigned)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.validate_input,
            self.claim_agent,
            self.leave_queue,
            self.record_start,
            self.agent_lost,
            self.open_gate,
            self.close_gate,
            self.collect_outputs,
            self.record_end,
        ]

    def _plan(self, planned: PlannedJob) -> JobPlan:
        job = planned.job
        # The definition frozen when the job was created; older jobs have none and run with
        # their workflow's current one.
        definition = job.definition or planned.workflow.definition
        definitions = {step.name: step for step in parse_steps(definition)}
        return JobPlan(
            tenant=job.tenant_id,
            job_number=job.number,
            workflow_slug=planned.workflow.slug,
            input=dict(job.input or {}),
            steps=[
                _step_plan(
                    row.index, definitions.get(row.name, StepDefinition(row.name)), row.status
                )
                for row in planned.steps
            ],
            context=JobContext(
                source=job.source.value,
                effort_level=job.effort_level.value if job.effort_level else None,
                effort=dict(job.effort or {}),
                hint=job.hint,
                ticket_url=job.ticket_url,
                ticket_key=job.ticket_key,
            ),
            queue_timeout_seconds=queue_timeout(definition),
            heartbeat_timeout_seconds=self._heartbeat_timeout_seconds,
        )


def _step_plan(index: int, step: StepDefinition, status: StepStatus) -> StepPlan:
    return StepPlan(
        index=index,
        name=step.name,
        run=step.run,
        retries=step.retries,
        timeout_seconds=step.timeout_seconds,
        backoff_seconds=step.backoff_seconds,
        approval=step.approval,
        skip=status in (StepStatus.SKIPPED, StepStatus.COMPLETED),
    )

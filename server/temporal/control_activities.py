"""Control-plane activities: Init, approval gates and Teardown when no agent can do it."""

from temporalio import activity

from server.domain.enums import StepStatus
from server.services.execution import ExecutionService, StartedJob
from server.workflows.definition import StepDefinition, parse_steps

from .activity_errors import domain_errors_are_final, record_end
from .contracts import GateUpdate, JobPlan, JobRef, Outcome, StepPlan, agent_task_queue


class ControlActivities:
    def __init__(self, execution: ExecutionService, *, task_queue: str) -> None:
        self._execution = execution
        self._task_queue = task_queue

    @activity.defn(name="init_job")
    async def init_job(self, job: JobRef) -> JobPlan:
        """Init: mark the job running, load its definition, pick its agent."""
        with domain_errors_are_final():
            started = await self._execution.start(tenant=job.tenant, number=job.job_number)
        if started is None:
            return JobPlan(job.tenant, job.job_number, "", None, None, finished=True)
        return self._plan(started)

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

    @activity.defn(name="teardown")
    async def teardown(self, outcome: Outcome) -> None:
        """Teardown without the agent: record the end and release the agent."""
        await record_end(self._execution, outcome, agent=outcome.agent_name)

    def _plan(self, started: StartedJob) -> JobPlan:
        job, agent = started.job, started.agent
        definitions = {step.name: step for step in parse_steps(started.workflow.definition)}
        return JobPlan(
            tenant=job.tenant_id,
            job_number=job.number,
            workflow_slug=started.workflow.slug,
            agent_name=agent.name,
            agent_task_queue=agent_task_queue(
                self._task_queue, tenant=job.tenant_id, agent=agent.name
            ),
            input=dict(job.input or {}),
            steps=[
                _step_plan(
                    row.index, definitions.get(row.name, StepDefinition(row.name)), row.status
                )
                for row in started.steps
            ],
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

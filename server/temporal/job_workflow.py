"""The job workflow: Init, Agent Setup, Execution (one `runAndMonitor` per step) and Teardown.

Workflow code runs in Temporal's sandbox: it imports nothing from the server but the plain
dataclasses in `contracts`, and reaches the database only through activities.
"""

import asyncio
from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from server.temporal.contracts import (
        HANDED_BACK,
        JOB_FAILED,
        JOB_WORKFLOW,
        STEP_ACTIVITY,
        AgentClaim,
        Decision,
        GateUpdate,
        JobPlan,
        JobRef,
        Outcome,
        StepPlan,
        StepRun,
    )

CONTROL_TIMEOUT = timedelta(seconds=30)
CONTROL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=10)
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# An agent that does not pick up its Setup or Teardown in time is taken as gone.
AGENT_PICKUP_TIMEOUT = timedelta(minutes=2)
TEARDOWN_ON_AGENT_TIMEOUT = timedelta(seconds=60)
DEFAULT_STEP_TIMEOUT = timedelta(hours=12)


class _Rejected(Exception):
    """The approval step was rejected: the job has already been recorded FAILED."""


class _StepFailed(Exception):
    """A step failed after its last attempt; the message is the job's error."""


@workflow.defn(name=JOB_WORKFLOW)
class JobWorkflow:
    def __init__(self) -> None:
        self._paused = False
        self._decision: tuple[bool, Decision] | None = None

    @workflow.run
    async def run(self, job: JobRef) -> str:
        try:
            plan: JobPlan = await workflow.execute_activity(
                "init_job",
                job,
                result_type=JobPlan,
                start_to_close_timeout=CONTROL_TIMEOUT,
                retry_policy=CONTROL_RETRY,
            )
        except ActivityError as error:
            failed = Outcome(job.tenant, job.job_number, "FAILED", error=_why(error))
            await self._teardown(None, failed)
            return _ended(failed)
        if plan.finished:
            return "ALREADY_ENDED"
        outcome = Outcome(job.tenant, job.job_number, "COMPLETED", agent_name=plan.agent_name)
        try:
            outcome = replace(outcome, workspace=await self._setup(plan))
            for step in plan.steps:
                await workflow.wait_condition(lambda: not self._paused)
                if step.approval:
                    await self._gate(plan, step)
                elif not step.skip:
                    await self._run_step(plan, step, outcome.workspace or "")
            await workflow.wait_condition(lambda: not self._paused)
        except _Rejected:
            outcome = replace(outcome, status="FAILED")
        except _StepFailed as failure:
            outcome = replace(outcome, status="FAILED", error=str(failure))
        except ActivityError as error:
            outcome = replace(outcome, status="FAILED", error=_why(error))
        except asyncio.CancelledError:
            await self._teardown(plan, replace(outcome, status="CANCELLED"))
            raise
        await self._teardown(plan, outcome)
        return _ended(outcome)

    @workflow.signal(name="pause")
    def pause(self, decision: Decision) -> None:
        self._paused = True

    @workflow.signal(name="resume")
    def resume(self, decision: Decision) -> None:
        self._paused = False

    @workflow.signal(name="approve")
    def approve(self, decision: Decision) -> None:
        self._decision = (True, decision)

    @workflow.signal(name="reject")
    def reject(self, decision: Decision) -> None:
        self._decision = (False, decision)

    async def _setup(self, plan: JobPlan) -> str:
        workspace: str = await workflow.execute_activity(
            "setup_agent",
            AgentClaim(plan.tenant, plan.job_number, plan.agent_name or ""),
            result_type=str,
            task_queue=plan.agent_task_queue,
            schedule_to_start_timeout=AGENT_PICKUP_TIMEOUT,
            start_to_close_timeout=CONTROL_TIMEOUT,
            retry_policy=CONTROL_RETRY,
        )
        return workspace

    async def _run_step(self, plan: JobPlan, step: StepPlan, workspace: str) -> None:
        while True:
            try:
                await self._step_activity(plan, step, workspace)
                return
            except ActivityError as error:
                if is_cancelled_exception(error):
                    raise asyncio.CancelledError from error
                if not _handed_back(error):
                    raise _StepFailed(f"step {step.name!r} failed: {_why(error)}") from error

    async def _step_activity(self, plan: JobPlan, step: StepPlan, workspace: str) -> None:
        limit = timedelta(seconds=step.timeout_seconds) if step.timeout_seconds else None
        await workflow.execute_activity(
            STEP_ACTIVITY,
            StepRun(
                plan.tenant, plan.job_number, step.index, step.name, step.run, workspace, plan.input
            ),
            task_queue=plan.agent_task_queue,
            start_to_close_timeout=limit or DEFAULT_STEP_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=max(step.backoff_seconds, 0.01)),
                backoff_coefficient=2.0,
                maximum_attempts=step.retries + 1,
            ),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=step.name,
        )

    async def _gate(self, plan: JobPlan, step: StepPlan) -> None:
        gate = GateUpdate(plan.tenant, plan.job_number, step.index)
        await self._control("open_gate", gate)
        self._decision = None
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        approved, decision = self._decision
        await self._control(
            "close_gate",
            GateUpdate(
                plan.tenant, plan.job_number, step.index, approved, decision.actor, decision.message
            ),
        )
        if not approved:
            raise _Rejected

    async def _teardown(self, plan: JobPlan | None, outcome: Outcome) -> None:
        """Teardown always completes: a cancellation that lands during it (the job was
        cancelled as it ended) interrupts the first try, not the second."""
        try:
            await self._teardown_once(plan, outcome)
        except asyncio.CancelledError:
            await self._teardown_once(plan, outcome)
            raise

    async def _teardown_once(self, plan: JobPlan | None, outcome: Outcome) -> None:
        """On the agent (it cleans the workspace), or here if there is no agent or it is gone."""
        if plan is not None and plan.agent_task_queue is not None and outcome.workspace:
            try:
                await workflow.execute_activity(
                    "teardown",
                    outcome,
                    task_queue=plan.agent_task_queue,
                    schedule_to_close_timeout=TEARDOWN_ON_AGENT_TIMEOUT,
                    retry_policy=CONTROL_RETRY,
                )
                return
            except ActivityError:
                workflow.logger.warning("teardown on the agent failed; finishing without it")
        await self._control("teardown", outcome)

    async def _control(self, activity: str, argument: GateUpdate | Outcome) -> None:
        await workflow.execute_activity(
            activity, argument, start_to_close_timeout=CONTROL_TIMEOUT, retry_policy=CONTROL_RETRY
        )


def _ended(outcome: Outcome) -> str:
    """The run ends as the job did, so Temporal's own status tells the truth: a failed job
    fails its workflow (after Teardown recorded it), a completed one returns COMPLETED."""
    if outcome.status == "FAILED":
        raise ApplicationError(
            outcome.error or "the job failed", type=JOB_FAILED, non_retryable=True
        )
    return outcome.status


def _handed_back(error: ActivityError) -> bool:
    """The agent stopped before the step finished and gave it back (see HANDED_BACK)."""
    cause = error.cause
    return isinstance(cause, ApplicationError) and cause.type == HANDED_BACK


def _why(error: ActivityError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)

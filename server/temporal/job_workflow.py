"""The job workflow: Init, Agent Setup, Execution (one `runAndMonitor` per attempt of a step)
and Teardown.

Init validates the input, claims an agent and records the start. Claiming puts the job in the
queue: when no agent can take it now, the workflow sleeps until the queue signals that it got a
slot (or its workflow's queue timeout passes). Waiting costs a durable timer, nothing else.

Workflow code runs in Temporal's sandbox: it imports nothing from the server but the plain
dataclasses in `contracts`, and reaches the database only through activities.
"""

import asyncio
import builtins
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    TimeoutError,
    TimeoutType,
    is_cancelled_exception,
)

with workflow.unsafe.imports_passed_through():
    from server.temporal.contracts import (
        ASSIGNED_SIGNAL,
        HANDED_BACK,
        JOB_FAILED,
        JOB_WORKFLOW,
        STEP_ACTIVITY,
        AgentClaim,
        AgentLost,
        Assignment,
        Claim,
        Decision,
        GateUpdate,
        Handover,
        JobPlan,
        JobRef,
        Outcome,
        StepPlan,
        StepRun,
    )

T = TypeVar("T")
CONTROL_TIMEOUT = timedelta(seconds=30)
CONTROL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=10)
# An agent that does not pick up an activity in time is taken as gone.
AGENT_PICKUP_TIMEOUT = timedelta(seconds=30)
TEARDOWN_ON_AGENT_TIMEOUT = timedelta(seconds=60)
DEFAULT_STEP_TIMEOUT = timedelta(hours=12)
# Control-plane activities run as local activities from this patch on.
LOCAL_CONTROL = "local-control-activities"
# Timeouts that mean the agent stopped answering, not that the step failed.
_AGENT_GONE = {TimeoutType.HEARTBEAT, TimeoutType.SCHEDULE_TO_START}


class _Rejected(Exception):
    """The approval step was rejected: the job has already been recorded FAILED."""


class _Failed(Exception):
    """The job failed; the message is its error."""


class _AgentGone(Exception):
    """The agent stopped answering before the job's first step on it."""


@workflow.defn(name=JOB_WORKFLOW)
class JobWorkflow:
    def __init__(self) -> None:
        self._paused = False
        self._decision: tuple[bool, Decision] | None = None
        self._waiting = False
        self._assignment: Assignment | None = None
        self._workspace: str | None = None

    @workflow.run
    async def run(self, job: JobRef) -> str:
        try:
            plan: JobPlan = await self._control("validate_input", job, JobPlan)
        except ActivityError as error:
            failed = Outcome(job.tenant, job.job_number, "FAILED", error=_why(error))
            await self._teardown(failed)
            return _ended(failed)
        if plan.finished:
            return "ALREADY_ENDED"
        outcome = Outcome(job.tenant, job.job_number, "COMPLETED")
        try:
            agent = await self._claim(plan)
            claim = AgentClaim(plan.tenant, plan.job_number, agent.agent_name)
            await self._control("record_start", claim, str)
            await self._set_up(plan, agent)
            for step in plan.steps:
                await workflow.wait_condition(lambda: not self._paused)
                if step.approval:
                    await self._gate(plan, step)
                elif not step.skip:
                    await self._run_step(plan, step)
            await workflow.wait_condition(lambda: not self._paused)
        except _Rejected:
            outcome = replace(outcome, status="FAILED")
        except _Failed as failure:
            outcome = replace(outcome, status="FAILED", error=str(failure))
        except ActivityError as error:
            outcome = replace(outcome, status="FAILED", error=_why(error))
        except asyncio.CancelledError:
            await self._teardown(replace(outcome, status="CANCELLED"))
            raise
        await self._teardown(outcome)
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

    @workflow.signal(name=ASSIGNED_SIGNAL)
    def assigned(self, assignment: Assignment) -> None:
        """The queue gave the job a slot (ignored unless the job is waiting for one)."""
        if self._waiting:
            self._assignment = assignment

    async def _claim(self, plan: JobPlan) -> Assignment:
        """Init's claim: an agent now, or once the queue wakes the job; a job still waiting
        when its workflow's queue timeout passes fails, saying what it waited for."""
        ref = JobRef(plan.tenant, plan.job_number)
        self._assignment, self._waiting = None, True
        claim: Claim = await self._control("claim_agent", ref, Claim)
        if claim.assignment is not None:
            self._assignment = claim.assignment
        timeout = plan.queue_timeout_seconds
        try:
            await workflow.wait_condition(
                lambda: self._assignment is not None,
                timeout=timedelta(seconds=timeout) if timeout else None,
            )
        except builtins.TimeoutError:
            left: Claim = await self._control("leave_queue", ref, Claim)
            if left.assignment is None:
                raise _Failed(
                    f"no agent took the job within {timeout:g} s ({left.reason})"
                ) from None
            self._assignment = left.assignment
        self._waiting = False
        assert self._assignment is not None
        return self._assignment

    async def _set_up(self, plan: JobPlan, agent: Assignment) -> None:
        """Agent Setup on the agent; an agent gone meanwhile is reported and another claimed."""
        while True:
            try:
                await self._setup_once(plan, agent)
                return
            except _AgentGone:
                reason = f"agent {agent.agent_name} stopped answering before the first step"
                await self._lost(AgentLost(plan.tenant, plan.job_number, agent.agent_name, reason))
                agent = await self._claim(plan)

    async def _setup_once(self, plan: JobPlan, agent: Assignment) -> None:
        claim = AgentClaim(plan.tenant, plan.job_number, agent.agent_name)
        try:
            await self._on_agent("check_agent", claim, str)
            workspace = await self._on_agent("prepare_workspace", claim, str)
            handover = Handover(plan.tenant, plan.job_number, workspace)
            await self._on_agent("hand_over_definition", handover, str)
        except ActivityError as error:
            if _agent_gone(error):
                raise _AgentGone from error
            raise
        self._workspace = workspace

    async def _run_step(self, plan: JobPlan, step: StepPlan) -> None:
        """Each attempt is its own activity: a failed one is retried after its back-off (on the
        same agent), one whose agent stopped answering on the next agent the queue gives."""
        attempt = 1
        while True:
            agent = self._assignment
            assert agent is not None
            try:
                await self._attempt(plan, step, attempt)
                return
            except ActivityError as error:
                if is_cancelled_exception(error):
                    raise asyncio.CancelledError from error
                if _handed_back(error):
                    # The agent stopped before the step ended: the same attempt, on the next
                    # agent the queue gives (not a failed attempt).
                    reason = f"agent {agent.agent_name} handed back step {step.index + 1}"
                    await self._lost(
                        AgentLost(plan.tenant, plan.job_number, agent.agent_name, reason)
                    )
                    await self._set_up(plan, await self._claim(plan))
                    continue
                gone = _agent_gone(error)
                reason = (
                    f"agent {agent.agent_name} stopped answering during step {step.index + 1}"
                    if gone
                    else _why(error)
                )
                if gone:
                    lost = AgentLost(
                        plan.tenant, plan.job_number, agent.agent_name, reason, step.index, attempt
                    )
                    await self._lost(lost)
                if attempt > step.retries:
                    raise _Failed(f"Step {step.index + 1} ({step.name}) failed: {reason}") from None
                await workflow.sleep(step.backoff_seconds * 2 ** (attempt - 1))
                if gone:
                    await self._set_up(plan, await self._claim(plan))
                attempt += 1

    async def _attempt(self, plan: JobPlan, step: StepPlan, attempt: int) -> None:
        assert self._assignment is not None
        limit = timedelta(seconds=step.timeout_seconds) if step.timeout_seconds else None
        await workflow.execute_activity(
            STEP_ACTIVITY,
            StepRun(
                plan.tenant,
                plan.job_number,
                step.index,
                step.name,
                step.run,
                self._workspace or "",
                plan.input,
                plan.context,
                attempt,
            ),
            task_queue=self._assignment.task_queue,
            activity_id=f"step-{step.index}-attempt-{attempt}",
            schedule_to_start_timeout=AGENT_PICKUP_TIMEOUT,
            start_to_close_timeout=limit or DEFAULT_STEP_TIMEOUT,
            heartbeat_timeout=timedelta(seconds=plan.heartbeat_timeout_seconds),
            retry_policy=RetryPolicy(maximum_attempts=1),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"{step.name} (attempt {attempt})",
        )

    async def _lost(self, lost: AgentLost) -> None:
        await self._control("agent_lost", lost)
        self._assignment, self._workspace = None, None

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

    async def _teardown(self, outcome: Outcome) -> None:
        """Teardown always completes: a cancellation that lands during it (the job was
        cancelled as it ended) interrupts the first try, not the second."""
        agent = self._assignment
        outcome = replace(
            outcome,
            agent_name=agent.agent_name if agent is not None else None,
            workspace=self._workspace,
        )
        try:
            await self._teardown_once(outcome)
        except asyncio.CancelledError:
            await self._teardown_once(outcome)
            raise

    async def _teardown_once(self, outcome: Outcome) -> None:
        """Collect the outputs, clean the workspace on the agent (skipped if the agent is gone),
        record the end."""
        await self._control("collect_outputs", outcome)
        agent = self._assignment
        if agent is not None and outcome.workspace:
            try:
                await workflow.execute_activity(
                    "clean_workspace",
                    outcome,
                    task_queue=agent.task_queue,
                    schedule_to_close_timeout=TEARDOWN_ON_AGENT_TIMEOUT,
                    retry_policy=CONTROL_RETRY,
                )
            except ActivityError:
                workflow.logger.warning("cleaning the workspace failed; finishing without it")
        await self._control("record_end", outcome)

    async def _on_agent(self, activity: str, argument: Any, result_type: type[T]) -> T:
        assert self._assignment is not None
        result: T = await workflow.execute_activity(
            activity,
            argument,
            result_type=result_type,
            task_queue=self._assignment.task_queue,
            schedule_to_start_timeout=AGENT_PICKUP_TIMEOUT,
            start_to_close_timeout=CONTROL_TIMEOUT,
            retry_policy=CONTROL_RETRY,
        )
        return result

    async def _control(
        self, activity: str, argument: Any, result_type: type[T] | None = None
    ) -> Any:
        """A control-plane activity: local (run by this worker within the workflow task, its
        result recorded as a marker) once the run has the LOCAL_CONTROL patch; runs begun
        before it keep the scheduled activities their history holds."""
        if workflow.patched(LOCAL_CONTROL):
            return await workflow.execute_local_activity(
                activity,
                argument,
                result_type=result_type,
                start_to_close_timeout=CONTROL_TIMEOUT,
                retry_policy=CONTROL_RETRY,
            )
        return await workflow.execute_activity(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=CONTROL_TIMEOUT,
            retry_policy=CONTROL_RETRY,
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


def _agent_gone(error: ActivityError) -> bool:
    cause = error.cause
    return isinstance(cause, TimeoutError) and cause.type in _AGENT_GONE


def _why(error: ActivityError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    if isinstance(cause, TimeoutError) and cause.type is TimeoutType.START_TO_CLOSE:
        return "timed out: process killed"
    return str(cause or error)

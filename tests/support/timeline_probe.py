"""A workflow shaped like the job workflow (one activity each of Init, Agent Setup and
Teardown, one `runAndMonitor` per step, under the same activity names and contracts) whose
steps do what a test scripts: `ok`, `flaky` (fails its first attempt), `fail` (fails every
attempt) or `block` (heartbeats until the test releases it). Cancelled, it tears down and
ends CANCELED, as the job workflow does. It makes real histories without an agent or a
database."""

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from server.temporal.contracts import (
        JOB_FAILED,
        STEP_ACTIVITY,
        AgentClaim,
        JobPlan,
        JobRef,
        Outcome,
        StepPlan,
        StepRun,
    )

PROBE_WORKFLOW = "TimelineProbe"
WORKFLOW_SLUG = "se-rca-fix"
AGENT = "agent-01"
FAST_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=2)
TIMEOUT = timedelta(seconds=30)


@workflow.defn(name=PROBE_WORKFLOW)
class TimelineProbe:
    @workflow.run
    async def run(self, job: JobRef) -> str:
        plan: JobPlan = await workflow.execute_activity(
            "validate_input", job, result_type=JobPlan, start_to_close_timeout=TIMEOUT
        )
        await workflow.execute_activity(
            "check_agent",
            AgentClaim(job.tenant, job.job_number, AGENT),
            result_type=str,
            start_to_close_timeout=TIMEOUT,
        )
        status = "COMPLETED"
        for step in plan.steps:
            try:
                await workflow.execute_activity(
                    STEP_ACTIVITY,
                    StepRun(job.tenant, job.job_number, step.index, step.name, step.run, "/tmp"),
                    start_to_close_timeout=TIMEOUT,
                    heartbeat_timeout=timedelta(seconds=10),
                    retry_policy=FAST_RETRY,
                )
            except ActivityError as error:
                if is_cancelled_exception(error):
                    await self._teardown(job, "CANCELLED")
                    raise asyncio.CancelledError from error
                status = "FAILED"
                break
        await self._teardown(job, status)
        if status == "FAILED":
            raise ApplicationError("a step failed", type=JOB_FAILED, non_retryable=True)
        return status

    async def _teardown(self, job: JobRef, status: str) -> None:
        outcome = Outcome(job.tenant, job.job_number, status)
        await workflow.execute_activity("record_end", outcome, start_to_close_timeout=TIMEOUT)


class ProbeActivities:
    """`scripts[job_number]` lists the job's step commands; `released` jobs end `block` steps."""

    def __init__(self) -> None:
        self.scripts: dict[int, list[str]] = {}
        self.released: set[int] = set()

    @activity.defn(name="validate_input")
    async def validate_input(self, job: JobRef) -> JobPlan:
        steps = [
            StepPlan(index, f"step-{index}", command, 1, None, 0.0, False)
            for index, command in enumerate(self.scripts.get(job.job_number, []))
        ]
        return JobPlan(job.tenant, job.job_number, WORKFLOW_SLUG, steps=steps)

    @activity.defn(name="check_agent")
    async def check_agent(self, claim: AgentClaim) -> str:
        return AGENT

    @activity.defn(name=STEP_ACTIVITY)
    async def run_and_monitor(self, step: StepRun) -> None:
        if step.command == "fail" or (step.command == "flaky" and activity.info().attempt == 1):
            raise ApplicationError(f"{step.step_name} failed")
        if step.command == "block":
            while step.job_number not in self.released:
                activity.heartbeat()
                await asyncio.sleep(0.05)

    @activity.defn(name="record_end")
    async def record_end(self, outcome: Outcome) -> None:
        return None

    def all(self) -> list[object]:
        return [self.validate_input, self.check_agent, self.run_and_monitor, self.record_end]

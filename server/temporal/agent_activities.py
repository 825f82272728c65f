"""Activities that run on an agent: Agent Setup, `runAndMonitor` for each step, Teardown."""

import asyncio
import shutil
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from server.domain.enums import LogStream
from server.services.execution import ExecutionService

from .activity_errors import domain_errors_are_final, record_end
from .contracts import HANDED_BACK, STEP_ACTIVITY, AgentClaim, Outcome, StepRun
from .log_sink import LogSink
from .step_process import read_output, run_command, step_environment

HEARTBEAT_SECONDS = 1.0
STEP_FAILED = "StepFailed"
HANDED_BACK_REASON = (
    "the agent stopped before the step finished: handed back, it runs again when the agent is back"
)
# The worker enforces a step's timeout by its own clock, a little before the server's.
TIMEOUT_TOLERANCE = 0.9


class AgentActivities:
    def __init__(
        self, execution: ExecutionService, *, agent_name: str, workspace_root: Path
    ) -> None:
        self._execution = execution
        self._agent_name = agent_name
        self._workspace_root = workspace_root

    @activity.defn(name="setup_agent")
    async def setup_agent(self, claim: AgentClaim) -> str:
        """Agent Setup: claim this agent for the job and prepare an empty workspace."""
        with domain_errors_are_final():
            await self._execution.claim_agent(
                tenant=claim.tenant, number=claim.job_number, agent_name=self._agent_name
            )
        workspace = self._workspace_root / claim.tenant / f"job-{claim.job_number}"
        shutil.rmtree(workspace, ignore_errors=True)
        (workspace / ".jobmonitor").mkdir(parents=True)
        await self._execution.append_logs(
            tenant=claim.tenant,
            number=claim.job_number,
            lines=[(LogStream.SYSTEM, f"agent {self._agent_name}: workspace {workspace}")],
        )
        return str(workspace)

    @activity.defn(name=STEP_ACTIVITY)
    async def run_and_monitor(self, step: StepRun) -> None:
        """Execution: run one step's command, stream its lines, heartbeat, honour cancellation."""
        attempt = activity.info().attempt
        with domain_errors_are_final():
            await self._execution.step_started(
                tenant=step.tenant,
                number=step.job_number,
                index=step.step_index,
                attempt=attempt,
                step_input={"command": step.command},
            )
        async with LogSink(self._execution, tenant=step.tenant, number=step.job_number) as log:
            log.write(LogStream.SYSTEM, f"step {step.step_name} (attempt {attempt}) started")
            error = await self._run(step, log)
            log.write(LogStream.SYSTEM, f"step {step.step_name} {error or 'completed'}")
        if error is not None:
            # A failing command is the job's business, not the agent's: no traceback in its log.
            raise ApplicationError(
                error, type=STEP_FAILED, category=ApplicationErrorCategory.BENIGN
            )

    @activity.defn(name="teardown")
    async def teardown(self, outcome: Outcome) -> None:
        """Teardown: record the end and release the agent, then clean the workspace."""
        await record_end(self._execution, outcome, agent=self._agent_name)
        if outcome.workspace:
            shutil.rmtree(outcome.workspace, ignore_errors=True)

    async def _run(self, step: StepRun, log: LogSink) -> str | None:
        """The step's error (None when it succeeded), recorded on the step."""
        workspace = Path(step.workspace)
        output_file = workspace / ".jobmonitor" / f"step-{step.step_index}-output.json"
        output_file.unlink(missing_ok=True)
        error: str | None = None
        output = None
        if step.command is not None:
            env = step_environment(
                job_number=step.job_number,
                job_input=step.input,
                workspace=workspace,
                output_file=output_file,
            )
            try:
                code = await _heartbeating(
                    run_command(step.command, cwd=workspace, env=env, on_line=log.write)
                )
            except asyncio.CancelledError:
                if activity.is_worker_shutdown():
                    log.write(LogStream.SYSTEM, f"step {step.step_name}: {HANDED_BACK_REASON}")
                    raise ApplicationError(
                        HANDED_BACK_REASON, type=HANDED_BACK, non_retryable=True
                    ) from None
                await self._record(step, None, _cancel_reason())
                log.write(LogStream.SYSTEM, f"step {step.step_name}: {_cancel_reason()}")
                raise
            error = f"exited with code {code}" if code else None
            if error is None:
                try:
                    output = read_output(output_file)
                except ValueError as invalid:
                    error = str(invalid)
        await self._record(step, output, error)
        return error

    async def _record(self, step: StepRun, output: object, error: str | None) -> None:
        await asyncio.shield(
            self._execution.step_finished(
                tenant=step.tenant,
                number=step.job_number,
                index=step.step_index,
                output=output,
                error=error,
                attempt=activity.info().attempt,
            )
        )


async def _heartbeating(command: Coroutine[Any, Any, int]) -> int:
    """Await the command, heartbeating meanwhile: Temporal delivers cancellation (and notices a
    dead agent) through heartbeats. Cancelled, it kills the command before giving up."""
    task = asyncio.create_task(command)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_SECONDS)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _cancel_reason() -> str:
    """Why the step is being stopped: its timeout (the worker enforces it locally, without
    cancellation details) or a cancellation."""
    details = activity.cancellation_details()
    info = activity.info()
    limit = info.start_to_close_timeout
    elapsed = datetime.now(UTC) - info.started_time
    near_limit = limit is not None and elapsed >= limit * TIMEOUT_TOLERANCE
    if (details is not None and details.timed_out) or near_limit:
        return "timed out: process killed"
    return "cancelled: process killed"

"""Activities that run on an agent: Agent Setup (check the agent, prepare the workspace, hand
over the definition), `runAndMonitor` for each attempt of a step, and Teardown's clean-up."""

import asyncio
import json
import shutil
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from server.domain.enums import LogStream
from server.services.artifacts import ArtifactService
from server.services.execution import AttemptEnd, ExecutionService

from .activity_errors import domain_errors_are_final
from .artifact_collector import ArtifactCollector, AttemptFolder
from .contracts import HANDED_BACK, STEP_ACTIVITY, AgentClaim, Handover, Outcome, StepRun
from .log_sink import LogSink
from .step_process import read_output, run_command, step_environment

HEARTBEAT_SECONDS = 1.0
STEP_FAILED = "StepFailed"
HANDED_BACK_REASON = (
    "the agent stopped before the step finished: handed back, it runs again on the next agent"
)
# The worker enforces a step's timeout by its own clock, a little before the server's.
TIMEOUT_TOLERANCE = 0.9
DEFINITION_FILE = "definition.json"
CANCELLED = "cancelled: process killed"


class AgentActivities:
    def __init__(
        self,
        execution: ExecutionService,
        artifacts: ArtifactService,
        *,
        agent_name: str,
        workspace_root: Path,
    ) -> None:
        self._execution = execution
        self._artifacts = artifacts
        self._agent_name = agent_name
        self._workspace_root = workspace_root

    @activity.defn(name="check_agent")
    async def check_agent(self, claim: AgentClaim) -> str:
        """Agent Setup: this agent holds the job's slot, and is BUSY with it."""
        with domain_errors_are_final():
            await self._execution.check_agent(
                tenant=claim.tenant, number=claim.job_number, agent_name=self._agent_name
            )
        return self._agent_name

    @activity.defn(name="prepare_workspace")
    async def prepare_workspace(self, claim: AgentClaim) -> str:
        """Agent Setup: an empty workspace for the job."""
        workspace = self._workspace_root / claim.tenant / f"job-{claim.job_number}"
        shutil.rmtree(workspace, ignore_errors=True)
        (workspace / ".jobmonitor").mkdir(parents=True)
        await self._execution.append_logs(
            tenant=claim.tenant,
            number=claim.job_number,
            lines=[(LogStream.SYSTEM, f"agent {self._agent_name}: workspace {workspace}")],
        )
        return str(workspace)

    @activity.defn(name="hand_over_definition")
    async def hand_over_definition(self, handover: Handover) -> str:
        """Agent Setup: the job's frozen definition, in `.jobmonitor/definition.json` of the
        workspace; returns its version."""
        with domain_errors_are_final():
            definition = await self._execution.definition(
                tenant=handover.tenant, number=handover.job_number
            )
        target = Path(handover.workspace) / ".jobmonitor" / DEFINITION_FILE
        target.write_text(json.dumps(definition, indent=2), encoding="utf-8")
        return str(definition.get("version", ""))

    @activity.defn(name=STEP_ACTIVITY)
    async def run_and_monitor(self, step: StepRun) -> None:
        """Execution: run one attempt of a step's command, stream its lines, heartbeat, honour
        cancellation."""
        with domain_errors_are_final():
            await self._execution.step_started(
                tenant=step.tenant,
                number=step.job_number,
                index=step.step_index,
                attempt=step.attempt,
                agent_name=self._agent_name,
                step_input={"command": step.command},
                lines=[
                    (LogStream.SYSTEM, f"step {step.step_name} (attempt {step.attempt}) started")
                ],
            )
        sink = LogSink(
            self._execution,
            tenant=step.tenant,
            number=step.job_number,
            step=step.step_index,
            attempt=step.attempt,
        )
        async with sink as log:
            end = await self._run(step, log)
            log.note(LogStream.SYSTEM, f"step {step.step_name} {end.error or 'completed'}")
            # The lines not written yet go with the attempt's end, in one transaction.
            rest = await log.close()
        await self._record(step, end, rest)
        if end.error is not None:
            # A failing command is the job's business, not the agent's: no traceback in its log.
            raise ApplicationError(
                end.error, type=STEP_FAILED, category=ApplicationErrorCategory.BENIGN
            )

    @activity.defn(name="clean_workspace")
    async def clean_workspace(self, outcome: Outcome) -> None:
        """Teardown: the workspace removed."""
        if outcome.workspace:
            shutil.rmtree(outcome.workspace, ignore_errors=True)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.check_agent,
            self.prepare_workspace,
            self.hand_over_definition,
            self.run_and_monitor,
            self.clean_workspace,
        ]

    async def _run(self, step: StepRun, log: LogSink) -> AttemptEnd:
        """How the attempt ended (the lines are in the log)."""
        workspace = Path(step.workspace)
        output_file = workspace / ".jobmonitor" / f"step-{step.step_index}-output.json"
        output_file.unlink(missing_ok=True)
        if step.command is None:
            return AttemptEnd()
        folder = AttemptFolder.made(
            workspace / ".jobmonitor",
            tenant=step.tenant,
            job_number=step.job_number,
            step=step.step_index,
            attempt=step.attempt,
        )
        env = step_environment(
            job_number=step.job_number,
            job_input=step.input,
            context=step.context,
            workspace=workspace,
            output_file=output_file,
            artifacts=folder.path,
        )
        collector = ArtifactCollector(self._artifacts, folder, log)
        try:
            async with collector.watching():
                code = await _heartbeating(
                    run_command(step.command, cwd=workspace, env=env, on_line=log.write)
                )
        except asyncio.CancelledError:
            if activity.is_worker_shutdown():
                log.note(LogStream.SYSTEM, f"step {step.step_name}: {HANDED_BACK_REASON}")
                raise ApplicationError(
                    HANDED_BACK_REASON, type=HANDED_BACK, non_retryable=True
                ) from None
            reason = _cancel_reason()
            await self._record(step, AttemptEnd(error=reason, cancelled=reason == CANCELLED))
            log.note(LogStream.SYSTEM, f"step {step.step_name}: {reason}")
            raise
        await collector.sweep(final=True)
        if code:
            return AttemptEnd(
                error=f"exited with code {code}", exit_code=code, error_detail=log.error_detail
            )
        try:
            return AttemptEnd(output=read_output(output_file), exit_code=code)
        except ValueError as invalid:
            return AttemptEnd(error=str(invalid), exit_code=code)

    async def _record(
        self, step: StepRun, end: AttemptEnd, lines: Sequence[tuple[LogStream, str]] = ()
    ) -> None:
        await asyncio.shield(
            self._execution.step_finished(
                tenant=step.tenant,
                number=step.job_number,
                index=step.step_index,
                attempt=step.attempt,
                end=end,
                lines=lines,
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
    return CANCELLED

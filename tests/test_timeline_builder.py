"""The timeline builder on histories a real dev server recorded for probe jobs."""

import itertools
from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle

from server.timeline.activities import ActivityState
from server.timeline.phases import Phase, build_phases
from server.timeline.plan import PHASES
from server.timeline.runs import RunSummary
from tests.support.timeline import Probe
from tests.support.timeline_probe import AGENT, WORKFLOW_SLUG
from tests.support.waiting import eventually


async def phases_of(handle: WorkflowHandle[object, str], *, pending: bool = False) -> list[Phase]:
    history = await handle.fetch_history()
    described = await handle.describe() if pending else None
    return build_phases(
        list(history.events),
        list(described.raw_description.pending_activities) if described else [],
        now=datetime.now(UTC),
    )


def by_name(phases: list[Phase]) -> dict[str, Phase]:
    return {phase.name: phase for phase in phases}


async def test_a_completed_job_has_four_phases_in_order(probe: Probe) -> None:
    # given a job of three steps that all succeed
    handle = await probe.run(["ok", "ok", "ok"])
    # when its timeline is built
    phases = await phases_of(handle)
    # then the four phases follow one another, one activity each but three in Execution
    assert [phase.name for phase in phases] == list(PHASES)
    assert [phase.activity_count for phase in phases] == [1, 1, 3, 1]
    for earlier, later in itertools.pairwise(phases):
        assert earlier.completed_at is not None
        assert later.started_at is not None
        assert earlier.completed_at <= later.started_at
    for phase in phases:
        assert phase.started_at is not None
        assert phase.completed_at is not None
        expected = (phase.completed_at - phase.started_at).total_seconds() * 1000
        assert phase.duration_ms == round(expected)
    execution = by_name(phases)["Execution"]
    assert [entry.name for entry in execution.entries] == ["runAndMonitor"] * 3
    assert {(entry.workflow, entry.agent) for entry in execution.entries} == {
        (WORKFLOW_SLUG, AGENT)
    }
    assert {entry.state for entry in execution.entries} == {ActivityState.COMPLETED}


async def test_a_retried_step_is_one_entry_with_its_last_attempt(probe: Probe) -> None:
    handle = await probe.run(["flaky", "ok"])
    execution = by_name(await phases_of(handle))["Execution"]
    assert [(entry.state, entry.attempt) for entry in execution.entries] == [
        (ActivityState.COMPLETED, 2),
        (ActivityState.COMPLETED, 1),
    ]


async def test_a_failed_step_ends_execution_and_teardown_still_runs(probe: Probe) -> None:
    handle = await probe.run(["ok", "fail", "ok"])
    phases = by_name(await phases_of(handle))
    assert [entry.state for entry in phases["Execution"].entries] == [
        ActivityState.COMPLETED,
        ActivityState.FAILED,
    ]
    assert phases["Execution"].entries[1].attempt == 2
    assert phases["Teardown"].activity_count == 1


async def test_a_running_job_shows_its_step_in_flight_from_describe(probe: Probe) -> None:
    # given a job whose second step is running and heartbeating
    handle = await probe.start(["ok", "block"])
    number = int(handle.id.rsplit("-", 1)[1])
    try:
        await _wait_for_heartbeat(handle)
        # when its timeline is built from the history and the pending activities
        phases = by_name(await phases_of(handle, pending=True))
    finally:
        probe.activities.released.add(number)
    # then the step in flight shows its attempt and last heartbeat, and nothing has ended
    running = phases["Execution"].entries[-1]
    assert running.state is ActivityState.RUNNING
    assert running.attempt == 1
    assert running.last_heartbeat_at is not None
    assert running.completed_at is None
    assert phases["Execution"].completed_at is None
    assert phases["Execution"].duration_ms is not None
    assert phases["Teardown"].activity_count == 0
    assert phases["Teardown"].started_at is None
    assert await handle.result() == "COMPLETED"


async def test_the_history_alone_shows_the_step_as_scheduled(probe: Probe) -> None:
    handle = await probe.start(["block"])
    number = int(handle.id.rsplit("-", 1)[1])
    try:
        await _wait_for_heartbeat(handle)
        execution = by_name(await phases_of(handle))["Execution"]
    finally:
        probe.activities.released.add(number)
    assert [entry.state for entry in execution.entries] == [ActivityState.SCHEDULED]


async def test_the_run_summary_line(probe: Probe) -> None:
    handle = await probe.run(["ok"])
    described = await handle.describe()
    summary = RunSummary.from_info(
        described.raw_description.workflow_execution_info, described=True
    )
    assert summary.status == "COMPLETED"
    assert summary.closed
    assert summary.short_run_id == described.run_id.replace("-", "")[:8]
    assert summary.history_length > 10
    assert summary.headline.startswith(f"Job: COMPLETED | {summary.history_length} events | ")
    assert summary.headline.endswith(f" | {summary.short_run_id}")


async def _wait_for_heartbeat(handle: WorkflowHandle[object, str]) -> None:

    async def heartbeating() -> bool:
        pending = (await handle.describe()).raw_description.pending_activities
        return any(info.HasField("last_heartbeat_time") for info in pending)

    await eventually(heartbeating, 10)


async def test_a_cancelled_job_ends_its_step_when_the_workflow_ends(probe: Probe) -> None:
    # given a job cancelled while its step runs
    handle = await probe.start(["block"])
    number = int(handle.id.rsplit("-", 1)[1])
    try:
        await _wait_for_heartbeat(handle)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    finally:
        probe.activities.released.add(number)
    # then its step ended, cancelled, when the workflow did, and Teardown still ran
    phases = by_name(await phases_of(handle))
    cancelled = phases["Execution"].entries[0]
    assert cancelled.state is ActivityState.CANCELLED
    assert cancelled.completed_at is not None
    assert phases["Execution"].completed_at == cancelled.completed_at
    assert phases["Teardown"].activity_count == 1
    described = await handle.describe()
    assert RunSummary.from_info(
        described.raw_description.workflow_execution_info, described=True
    ).status == ("CANCELLED")

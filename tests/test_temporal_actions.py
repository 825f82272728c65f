"""Acting on running jobs through Temporal: cancel, pause and resume, approve and reject,
scheduled start, and cancelling jobs that have no workflow; each signal sent once, after commit."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from server.db.models import Job, pipeline_id
from server.domain.enums import JobStatus
from server.runtime import Runtime
from server.temporal.contracts import STEP_ACTIVITY
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient
from tests.support.mutations import (
    APPROVE,
    CANCEL,
    PAUSE,
    REJECT,
    RESUME,
    act,
    dispatch,
    global_id,
)
from tests.support.temporal import Loader, job_state, status_is, wait_for
from tests.support.waiting import eventually

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

CANCEL_MANY = """
mutation($filter: JobFilter) {
  cancelJobs(filter: $filter) { jobs { number status } errors { code message } }
}
"""


def sleeper(pid_file: Path) -> str:
    """A step whose shell starts a child and waits; it writes its own pid and the child's."""
    return f"""
slug: sleeper
steps:
  - name: sleep
    run: |
      sleep 30 &
      echo "$$ $!" > {pid_file}
      echo started
      wait
"""


GATED = """
slug: gated
steps:
  - name: prepare
    run: |
      echo '{"ready": true}' > "$JOB_OUTPUT"
  - name: review
    approval: true
  - name: apply
    run: echo applied
"""


def held_until(release: Path) -> str:
    """Two steps; the first runs until the file `release` exists."""
    return f"""
slug: held
steps:
  - name: first
    run: while [ ! -e {release} ]; do sleep 0.05; done
  - name: second
    run: echo second
"""


TWO_SLOW = """
slug: two-slow
steps:
  - name: first
    run: sleep 1
  - name: second
    run: echo second
"""


def group_alive(group: int) -> bool:
    """Whether any process of the process group is still there."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


async def test_cancelling_a_running_step_kills_every_process_it_started(
    tgql: GraphQLClient, load_workflow: Loader, tmp_path: Path
) -> None:
    # Given a job whose step runs a shell that started a child of its own
    pid_file = tmp_path / "step.pids"
    await load_workflow(sleeper(pid_file))
    number = (await dispatch(tgql, workflow="sleeper"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")
    await eventually(lambda: len(pid_file.read_text().split()) == 2 if pid_file.exists() else 0)
    shell, child = map(int, pid_file.read_text().split())
    assert os.getpgid(child) == os.getpgid(shell)
    group = os.getpgid(shell)
    assert group != os.getpgid(0)  # the step has a process group of its own

    # When it is cancelled
    payload = await act(tgql, CANCEL, number)

    # Then the job is CANCELLED, every process of the step's group is gone, and teardown ran
    assert payload == {"job": {"status": "CANCELLED"}, "errors": []}
    job = await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "FAILED")
    assert job["steps"][0]["error"] == "cancelled: process killed"
    await eventually(lambda: not group_alive(group), 5)
    job = await wait_for(tgql, number, lambda job: job["agent"]["status"] == "ONLINE")
    assert job["status"] == "CANCELLED"
    assert job["events"][-1]["message"] == "cancelled"


async def test_a_job_without_a_workflow_is_cancelled_in_the_database(
    tgql: GraphQLClient, temporal_runtime: Runtime, tenant: str
) -> None:
    world = await build_world(
        temporal_runtime.session_factory, tenant, [{"status": "RUNNING"}, {"status": "PENDING"}]
    )

    payload = await act(tgql, CANCEL, world.jobs[0].number)
    data = await tgql.execute(CANCEL_MANY, filter={"status": ["PENDING"]})

    assert payload["job"] == {"status": "CANCELLED"}
    job = await job_state(tgql, world.jobs[0].number)
    assert "no workflow in Temporal" in job["events"][-1]["message"]
    assert data["cancelJobs"]["jobs"] == [{"number": world.jobs[1].number, "status": "CANCELLED"}]


async def test_a_finished_job_cannot_be_cancelled(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(TWO_SLOW)
    number = (await dispatch(tgql, workflow="two-slow"))["job"]["number"]
    await wait_for(tgql, number, status_is("COMPLETED"))

    payload = await act(tgql, CANCEL, number)

    [error] = payload["errors"]
    assert error["code"] == "INVALID_TRANSITION"
    assert "COMPLETED" in error["message"]


async def test_a_paused_job_finishes_its_step_and_waits_for_resume(
    tgql: GraphQLClient, load_workflow: Loader, temporal_client: Client, tmp_path: Path
) -> None:
    # Given a job whose first step runs until the test releases it
    release = tmp_path / "release"
    await load_workflow(held_until(release))
    number = (await dispatch(tgql, workflow="held"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")
    workflow = temporal_client.get_workflow_handle(f"pipeline-job-{number}")

    # When it is paused, and its running step then ends
    assert (await act(tgql, PAUSE, number))["job"] == {"status": "PAUSED"}
    await eventually(lambda: told(temporal_client, number, ["pause"]))
    release.touch()

    # Then the workflow, deciding what comes after the step, starts no other step
    await eventually(lambda: decided_after_first_step(workflow))
    assert await steps_scheduled(workflow) == 1
    job = await job_state(tgql, number)
    assert job["status"] == "PAUSED"
    assert [step["status"] for step in job["steps"]] == ["COMPLETED", "PENDING"]

    # and once resumed it goes on to the end
    assert (await act(tgql, RESUME, number))["job"] == {"status": "RUNNING"}
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED"
    assert [e["message"] for e in job["events"]][-3:-1] == ["paused", "resumed"]


async def decided_after_first_step(workflow: WorkflowHandle[Any, Any]) -> bool:
    """Whether the workflow completed a workflow task after its first step's activity ended
    (the task in which it would schedule the next step)."""
    events = list((await workflow.fetch_history()).events)
    step = next(
        event.event_id
        for event in events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == STEP_ACTIVITY
    )
    ended = next(
        (
            index
            for index, event in enumerate(events)
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            and event.activity_task_completed_event_attributes.scheduled_event_id == step
        ),
        None,
    )
    return ended is not None and any(
        event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        for event in events[ended + 1 :]
    )


async def steps_scheduled(workflow: WorkflowHandle[Any, Any]) -> int:
    history = await workflow.fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == STEP_ACTIVITY
    )


async def test_an_approved_job_goes_on(tgql: GraphQLClient, load_workflow: Loader) -> None:
    await load_workflow(GATED)
    number = (await dispatch(tgql, workflow="gated"))["job"]["number"]
    job = await wait_for(tgql, number, status_is("WAITING"))
    assert job["steps"][1]["status"] == "RUNNING"
    assert (await act(tgql, RESUME, number))["errors"][0]["code"] == "INVALID_TRANSITION"

    payload = await act(tgql, APPROVE, number, comment="looks right")

    assert payload["job"] == {"status": "RUNNING"}
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert [step["status"] for step in job["steps"]] == ["COMPLETED"] * 3
    approved = next(e for e in job["events"] if e["fromStatus"] == "WAITING")
    assert approved["message"] == "approved: looks right"
    assert job["output"] == {"ready": True}


async def test_a_rejected_job_fails_with_the_reason(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(GATED)
    number = (await dispatch(tgql, workflow="gated"))["job"]["number"]
    await wait_for(tgql, number, status_is("WAITING"))

    payload = await act(tgql, REJECT, number, reason="wrong service")

    assert payload["job"] == {"status": "FAILED"}
    job = await wait_for(tgql, number, lambda job: job["steps"][1]["status"] == "FAILED")
    assert job["error"] == "rejected: wrong service"
    assert job["steps"][1]["error"] == "rejected: wrong service"
    assert job["steps"][2]["status"] == "PENDING"
    job = await wait_for(tgql, number, lambda job: job["agent"]["status"] == "ONLINE")
    assert job["status"] == "FAILED"


async def test_a_scheduled_job_starts_at_its_time(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(TWO_SLOW)
    start_at = datetime.now(UTC) + timedelta(seconds=2)

    payload = await dispatch(tgql, workflow="two-slow", scheduledFor=start_at.isoformat())

    assert payload["job"]["status"] == "SCHEDULED"
    number = payload["job"]["number"]
    job = await wait_for(tgql, number, status_is("RUNNING", "COMPLETED"), within=10)
    assert datetime.now(UTC) >= start_at
    job = await wait_for(tgql, number, status_is("COMPLETED"))
    assert [e["toStatus"] for e in job["events"]] == ["SCHEDULED", "RUNNING", "COMPLETED"]


class ProcessDied(Exception):
    """Stands for the API process dying: nothing after it runs."""


@contextmanager
def first_commit_fails(
    when: Callable[[Session], bool], error: Exception | None = None
) -> Iterator[list[Session]]:
    """The first commit of a transaction that `when` picks fails, by default as a lost race
    does (the unit of work then retries it); the sessions it failed are listed."""
    failed: list[Session] = []

    def before_commit(session: Session) -> None:
        if not failed and when(session):
            failed.append(session)
            raise error or StaleDataError("another writer changed the job first")

    event.listen(Session, "before_commit", before_commit)
    try:
        yield failed
    finally:
        event.remove(Session, "before_commit", before_commit)


def moving_to(status: JobStatus, number: int) -> Callable[[Session], bool]:
    """Picks the transaction that moves the job to `status`."""
    return lambda session: any(
        isinstance(row, Job) and row.number == number and row.status is status
        for row in session.identity_map.values()
    )


async def signals(client: Client, number: int) -> list[str]:
    """The signals the job's workflow received, in order."""
    history = await client.get_workflow_handle(pipeline_id(number)).fetch_history()
    return [
        event.workflow_execution_signaled_event_attributes.signal_name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


async def told(client: Client, number: int, expected: list[str]) -> bool:
    return await signals(client, number) == expected


async def cancel_requested(client: Client, number: int) -> bool:
    history = await client.get_workflow_handle(pipeline_id(number)).fetch_history()
    return any(
        event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
        for event in history.events
    )


async def test_a_cancel_whose_commit_fails_changes_nothing_and_leaves_the_workflow_running(
    tgql: GraphQLClient, load_workflow: Loader, temporal_client: Client, tmp_path: Path
) -> None:
    # Given a job running a step that goes on until the test releases it
    release = tmp_path / "release"
    await load_workflow(held_until(release))
    number = (await dispatch(tgql, workflow="held"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")

    # When its cancellation is written but the commit fails (the database went away)
    lost = OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))
    with first_commit_fails(moving_to(JobStatus.CANCELLED, number), lost) as failed:
        answer = await tgql.raw(CANCEL, id=await global_id(tgql, number))

    # Then the request fails, nothing is recorded, and Temporal was never asked to cancel
    assert len(failed) == 1
    assert [error["extensions"]["code"] for error in answer["errors"]] == ["INTERNAL"]
    job = await job_state(tgql, number)
    assert job["status"] == "RUNNING"
    assert [event["toStatus"] for event in job["events"]] == ["PENDING", "RUNNING"]
    assert not await cancel_requested(temporal_client, number)
    # and the job runs on to the end, its workflow never cancelled
    release.touch()
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED", "CANCELLED"))
    assert job["status"] == "COMPLETED"
    await temporal_client.get_workflow_handle(pipeline_id(number)).result()
    assert not await cancel_requested(temporal_client, number)
    assert await signals(temporal_client, number) == []


async def test_a_retried_transaction_signals_the_workflow_once(
    tgql: GraphQLClient, load_workflow: Loader, temporal_client: Client
) -> None:
    # Given a job running its first step
    await load_workflow(TWO_SLOW)
    number = (await dispatch(tgql, workflow="two-slow"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")

    # When its pause loses a race at commit and the unit of work runs it again
    with first_commit_fails(moving_to(JobStatus.PAUSED, number)) as failed:
        paused = await act(tgql, PAUSE, number)
    assert paused["job"] == {"status": "PAUSED"}
    assert len(failed) == 1

    # Then the workflow was told once, and the job paused once
    assert await signals(temporal_client, number) == ["pause"]
    assert (await act(tgql, RESUME, number))["job"] == {"status": "RUNNING"}
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED"
    assert [event["message"] for event in job["events"]].count("paused") == 1
    assert await signals(temporal_client, number) == ["pause", "resume"]


async def test_a_signal_is_sent_even_when_the_process_dies_right_after_its_commit(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_runtime: Runtime,
    temporal_client: Client,
    tenant: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a job running its first step
    await load_workflow(TWO_SLOW)
    number = (await dispatch(tgql, workflow="two-slow"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")

    # When the process that pauses it dies after the commit, before it sends anything
    async def died(_number: int) -> bool:
        raise ProcessDied

    with monkeypatch.context() as patch:
        patch.setattr(temporal_runtime.outbox, "deliver", died)
        with pytest.raises(ProcessDied):
            await temporal_runtime.jobs.pause(tenant=tenant, number=number, actor="operator")

    # Then the pause is recorded, and the worker's outbox round still tells the workflow
    assert (await job_state(tgql, number))["status"] == "PAUSED"
    await eventually(lambda: told(temporal_client, number, ["pause"]), 20)
    assert (await act(tgql, RESUME, number))["job"] == {"status": "RUNNING"}
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED"
    assert await signals(temporal_client, number) == ["pause", "resume"]

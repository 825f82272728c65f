"""Acting on running jobs through Temporal: cancel, pause and resume, approve and reject,
scheduled start, and cancelling jobs that have no workflow; each signal sent once, after commit."""

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from server.db.models import Job, pipeline_id
from server.domain.enums import JobStatus
from server.runtime import Runtime

from .conftest import GraphQLClient
from .factories import build_world
from .temporal_support import job_state, status_is, wait_for
from .test_temporal_jobs import Loader, dispatch

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

CANCEL = """
mutation Act($id: ID!) {
  cancelJob(id: $id) { job { status } errors { code message } }
}
"""
PAUSE = "mutation($id: ID!) { pauseJob(id: $id) { job { status } errors { code message } } }"
RESUME = "mutation($id: ID!) { resumeJob(id: $id) { job { status } errors { code message } } }"
APPROVE = """
mutation($id: ID!, $comment: String) {
  approveJob(id: $id, comment: $comment) { job { status } errors { code message } }
}
"""
REJECT = """
mutation($id: ID!, $reason: String) {
  rejectJob(id: $id, reason: $reason) { job { status } errors { code message } }
}
"""
CANCEL_MANY = """
mutation($filter: JobFilter) {
  cancelJobs(filter: $filter) { jobs { number status } errors { code message } }
}
"""
ID = "query($number: Int!) { job(number: $number) { id } }"


def sleeper(pid_file: Path) -> str:
    return f"""
slug: sleeper
steps:
  - name: sleep
    run: |
      echo $$ > {pid_file}
      echo started
      sleep 30
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
TWO_SLOW = """
slug: two-slow
steps:
  - name: first
    run: sleep 1
  - name: second
    run: echo second
"""


async def global_id(gql: GraphQLClient, number: int) -> str:
    return str((await gql.execute(ID, number=number))["job"]["id"])


async def act(gql: GraphQLClient, mutation: str, number: int, **extra: Any) -> dict[str, Any]:
    data = await gql.execute(mutation, id=await global_id(gql, number), **extra)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_cancelling_a_running_step_kills_its_process(
    tgql: GraphQLClient, load_workflow: Loader, tmp_path: Path
) -> None:
    # Given a job whose step is running a long command
    pid_file = tmp_path / "step.pid"
    await load_workflow(sleeper(pid_file))
    number = (await dispatch(tgql, workflow="sleeper"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")
    await wait_for(tgql, number, lambda _job: pid_file.exists() and pid_file.read_text() != "")
    pid = int(pid_file.read_text())
    assert alive(pid)

    # When it is cancelled
    payload = await act(tgql, CANCEL, number)

    # Then the job is CANCELLED, the process is gone, and teardown ran
    assert payload == {"job": {"status": "CANCELLED"}, "errors": []}
    job = await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "FAILED")
    assert job["steps"][0]["error"] == "cancelled: process killed"
    assert not alive(pid)
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
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(TWO_SLOW)
    number = (await dispatch(tgql, workflow="two-slow"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")

    assert (await act(tgql, PAUSE, number))["job"] == {"status": "PAUSED"}

    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "COMPLETED")
    await asyncio.sleep(1)  # long enough for the next step to start, were the job not paused
    job = await job_state(tgql, number)
    assert job["status"] == "PAUSED"
    assert job["steps"][1]["status"] == "PENDING"

    assert (await act(tgql, RESUME, number))["job"] == {"status": "RUNNING"}
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED"
    assert [e["message"] for e in job["events"]][-3:-1] == ["paused", "resumed"]


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
def first_commit_fails(when: Callable[[Session], bool]) -> Iterator[list[Session]]:
    """The first commit of a transaction that `when` picks fails as a lost race does (the unit
    of work then retries it); the sessions it failed are listed."""
    failed: list[Session] = []

    def before_commit(session: Session) -> None:
        if not failed and when(session):
            failed.append(session)
            raise StaleDataError("another writer changed the job first")

    event.listen(Session, "before_commit", before_commit)
    try:
        yield failed
    finally:
        event.remove(Session, "before_commit", before_commit)


def pausing(number: int) -> Callable[[Session], bool]:
    """Picks the transaction that records the job's pause."""
    return lambda session: any(
        isinstance(row, Job) and row.number == number and row.status is JobStatus.PAUSED
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


async def test_a_retried_transaction_signals_the_workflow_once(
    tgql: GraphQLClient, load_workflow: Loader, temporal_client: Client
) -> None:
    # Given a job running its first step
    await load_workflow(TWO_SLOW)
    number = (await dispatch(tgql, workflow="two-slow"))["job"]["number"]
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING")

    # When its pause loses a race at commit and the unit of work runs it again
    with first_commit_fails(pausing(number)) as failed:
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
    async with asyncio.timeout(20):
        while await signals(temporal_client, number) != ["pause"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert (await act(tgql, RESUME, number))["job"] == {"status": "RUNNING"}
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED"
    assert await signals(temporal_client, number) == ["pause", "resume"]

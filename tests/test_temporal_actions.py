"""Acting on running jobs through Temporal: cancel, pause and resume, approve and reject,
scheduled start, and cancelling jobs that have no workflow."""

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

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

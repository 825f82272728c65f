"""The timeline of jobs run by the real job workflow, its worker and an agent."""

from typing import Any

import pytest

from server.app import create_app
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, serving
from tests.support.temporal import AGENT, status_is, wait_for
from tests.support.timeline import with_timeline
from tests.support.waiting import eventually

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

DISPATCH = """
mutation Dispatch($input: DispatchJobInput!) {
  dispatchJob(input: $input) { job { number } errors { message } }
}
"""
TIMELINE = """
query Job($number: Int!) {
  job(number: $number) {
    status
    timeline {
      available status eventCount sizeBytes shortRunId headline statusMismatch
      phases { name activityCount durationMs entries { name status attempt workflow agent } }
    }
  }
}
"""
FAILING = """
slug: failing-once
steps:
  - name: broken
    run: exit 4
"""
RETRIED = """
slug: retried
steps:
  - name: flaky
    run: test -e "$JOB_WORKSPACE/.tried" || { touch "$JOB_WORKSPACE/.tried"; exit 1; }
    retries: 1
    backoff_seconds: 0.05
  - name: report
    run: echo done
"""


async def test_a_finished_job_shows_its_four_phases_and_steps(
    temporal_runtime: Runtime, load_workflow: Any
) -> None:
    # given a job of two steps, the first one retried, run to its end
    await load_workflow(RETRIED)
    runtime = with_timeline(temporal_runtime, timeline_open_ttl=0.05)
    async with serving(create_app(runtime=runtime)) as http:
        gql = GraphQLClient(http)
        payload = (await gql.execute(DISPATCH, input={"workflow": "retried"}))["dispatchJob"]
        number = payload["job"]["number"]
        await wait_for(gql, number, status_is("COMPLETED", "FAILED"))
        # when its timeline is read
        job = await wait_for_timeline(gql, number)
        timeline = job["timeline"]
    # then it shows the workflow's end and the four phases made of their activities, a step
    # runner entry per attempt
    assert job["status"] == "COMPLETED"
    assert timeline["available"] is True
    assert timeline["statusMismatch"] is None
    assert timeline["headline"] == (
        f"Job: COMPLETED | {timeline['eventCount']} events | "
        f"{timeline['sizeBytes'] / 1024:.1f} KB | {timeline['shortRunId']}"
    )
    phases = {phase["name"]: phase for phase in timeline["phases"]}
    assert [
        (name, [entry["name"] for entry in phase["entries"]]) for name, phase in phases.items()
    ] == [
        ("Init", ["validate_input", "claim_agent", "record_start"]),
        ("Agent Setup", ["check_agent", "prepare_workspace", "hand_over_definition"]),
        ("Execution", ["runAndMonitor"] * 3),
        ("Teardown", ["collect_outputs", "clean_workspace", "record_end"]),
    ]
    assert [phase["activityCount"] for phase in phases.values()] == [3, 3, 3, 3]
    assert [
        (entry["status"], entry["attempt"], entry["workflow"], entry["agent"])
        for entry in phases["Execution"]["entries"]
    ] == [
        ("FAILED", 1, "retried", AGENT),
        ("COMPLETED", 2, "retried", AGENT),
        ("COMPLETED", 1, "retried", AGENT),
    ]


async def test_a_failed_job_fails_its_workflow_and_both_agree(
    temporal_runtime: Runtime, load_workflow: Any
) -> None:
    # given a job whose only step fails
    await load_workflow(FAILING)
    runtime = with_timeline(temporal_runtime, timeline_open_ttl=0.05)
    async with serving(create_app(runtime=runtime)) as http:
        gql = GraphQLClient(http)
        payload = (await gql.execute(DISPATCH, input={"workflow": "failing-once"}))["dispatchJob"]
        number = payload["job"]["number"]
        await wait_for(gql, number, status_is("COMPLETED", "FAILED"))
        # when its timeline is read
        job = await wait_for_timeline(gql, number, ended_as="FAILED")
    # then Temporal recorded the failure too, after Teardown ran, and nothing disagrees
    assert job["status"] == "FAILED"
    assert job["timeline"]["statusMismatch"] is None
    phases = {phase["name"]: phase for phase in job["timeline"]["phases"]}
    assert phases["Teardown"]["activityCount"] == 3


async def wait_for_timeline(
    gql: GraphQLClient, number: int, *, ended_as: str = "COMPLETED"
) -> dict[str, Any]:
    """Visibility is eventually consistent: read until it shows the run ended."""

    async def ended() -> dict[str, Any]:
        job: dict[str, Any] = (await gql.execute(TIMELINE, number=number))["job"]
        assert job["timeline"]["status"] == ended_as, job["timeline"]
        return job

    return await eventually(ended, 10)

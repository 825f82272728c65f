"""Jobs running on a real Temporal dev server: completion, failure, retries, timeouts."""

import pytest

from server.temporal.agent import AgentIdentity
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.temporal import AGENT, Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

LOGS = """
query Logs($number: Int!) {
  job(number: $number) { logs(first: 100) { edges { node { stream message } } } }
}
"""
TWO_STEPS = """
slug: two-steps
input_schema: {type: object, required: [name], properties: {name: {type: string}}}
steps:
  - name: greet
    run: echo "hello $JOB_INPUT_NAME from job $JOB_NUMBER"; echo oops >&2
  - name: report
    run: |
      printf '{"name": "%s", "input": %s}' "$JOB_INPUT_NAME" "$JOB_INPUT" > "$JOB_OUTPUT"
"""
FAILING = """
slug: failing
steps:
  - name: ok
    run: echo fine
  - name: broken
    run: echo "about to fail" >&2; exit 3
    retries: 2
    backoff_seconds: 0.05
  - name: never
    run: echo never
"""
SLOW = """
slug: slow
steps:
  - name: slow
    run: sleep 5
    timeout_seconds: 0.5
    retries: 1
    backoff_seconds: 0.05
"""


async def test_a_dispatched_job_runs_every_step_on_the_agent(
    tgql: GraphQLClient, load_workflow: Loader, agent: AgentIdentity
) -> None:
    # Given a two-step workflow
    await load_workflow(TWO_STEPS)

    # When it is dispatched without naming an agent
    payload = await dispatch(tgql, workflow="two-steps", input={"name": "ada"})

    # Then it starts on Temporal under its pipeline id, runs on the online agent and completes
    assert payload["errors"] == []
    number = payload["job"]["number"]
    assert payload["job"]["temporalWorkflowId"] == f"pipeline-job-{number}"
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED", job
    assert job["agent"] == {"name": AGENT, "status": "ONLINE"}
    assert [step["status"] for step in job["steps"]] == ["COMPLETED", "COMPLETED"]
    assert job["output"] == {"name": "ada", "input": {"name": "ada"}}
    assert job["steps"][1]["output"] == job["output"]
    moves = [(event["fromStatus"], event["toStatus"]) for event in job["events"]]
    assert moves == [(None, "PENDING"), ("PENDING", "RUNNING"), ("RUNNING", "COMPLETED")]
    # and the log holds the command's lines and the agent's own
    edges = (await tgql.execute(LOGS, number=number))["job"]["logs"]["edges"]
    lines = [(edge["node"]["stream"], edge["node"]["message"]) for edge in edges]
    assert ("STDOUT", f"hello ada from job {number}") in lines
    assert ("STDERR", "oops") in lines
    assert any(stream == "SYSTEM" for stream, _ in lines)


async def test_without_output_the_job_says_where_it_completed(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow("slug: quiet\nsteps: [{name: only, run: 'true'}]")

    number = (await dispatch(tgql, workflow="quiet"))["job"]["number"]

    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["output"] == f"Workflow quiet completed on {AGENT}"


async def test_a_failing_step_is_retried_then_fails_the_job(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(FAILING)

    number = (await dispatch(tgql, workflow="failing"))["job"]["number"]

    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "FAILED"
    assert job["error"] == "Step 2 (broken) failed: exited with code 3"
    assert job["currentStep"] == 1
    ok, broken, never = job["steps"]
    assert (ok["status"], ok["attempt"]) == ("COMPLETED", 1)
    assert (broken["status"], broken["attempt"], broken["error"]) == ("FAILED", 3, job["error"])
    assert never["status"] == "PENDING"


async def test_a_step_past_its_timeout_is_killed_and_retried(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(SLOW)

    number = (await dispatch(tgql, workflow="slow"))["job"]["number"]

    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))
    assert job["status"] == "FAILED"
    job = await wait_for(tgql, number, lambda job: "timed out" in (job["steps"][0]["error"] or ""))
    step = job["steps"][0]
    assert (step["attempt"], step["status"]) == (2, "FAILED")


async def test_dispatch_validates_input_against_the_schema(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(TWO_STEPS)

    payload = await dispatch(tgql, workflow="two-steps", input={"name": 7})

    assert payload["job"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "input/name")


async def test_an_idempotency_key_gives_the_same_job_and_one_workflow(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(TWO_STEPS)

    first = await dispatch(tgql, workflow="two-steps", input={"name": "a"}, idempotencyKey="k1")
    second = await dispatch(tgql, workflow="two-steps", input={"name": "a"}, idempotencyKey="k1")

    assert first["job"]["number"] == second["job"]["number"]
    job = await wait_for(tgql, first["job"]["number"], status_is("COMPLETED"))
    assert [event["toStatus"] for event in job["events"]] == ["PENDING", "RUNNING", "COMPLETED"]

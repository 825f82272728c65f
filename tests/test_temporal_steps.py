"""Per-step logs and attempts: every line says which step and attempt wrote it, a retried step
keeps each attempt, and a failed step keeps the end of its STDERR."""

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.temporal import AGENT, Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

FLAKY = """
slug: flaky-steps
steps:
  - name: prepare
    run: echo ready
  - name: flaky
    run: |
      echo "try" ; echo "complaint" >&2
      test -e "$JOB_WORKSPACE/.tried" || { touch "$JOB_WORKSPACE/.tried"; exit 1; }
    retries: 2
    backoff_seconds: 0.05
"""
FAILING = r"""
slug: run-tests
steps:
  - name: checkout
    run: 'true'
  - name: run-tests
    run: |
      for n in $(seq 1 24); do echo "failure $n" >&2; done
      printf 'x%.0s' $(seq 1 600) >&2; echo >&2
      exit 1
"""
STEPS = """
query($number: Int!, $streams: [LogStream!]) {
  job(number: $number) {
    status error
    steps {
      index name status attempt error errorDetail
      attempts { attempt status exitCode error durationSeconds agent { name } }
      logs(first: 50, streams: $streams) {
        edges { node { stream message step attempt } }
        pageInfo { hasNextPage }
      }
    }
  }
}
"""


async def test_a_flaky_step_keeps_each_attempt_and_its_own_log_lines(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    # Given a job whose second step fails once, then passes
    await load_workflow(FLAKY)
    number = (await dispatch(tgql, workflow="flaky-steps"))["job"]["number"]
    await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))

    # When its steps are read with their attempts and logs
    job = (await tgql.execute(STEPS, number=number, streams=["STDOUT", "STDERR"]))["job"]

    # Then the flaky step shows both attempts, the first failed with its exit code
    assert job["status"] == "COMPLETED"
    prepare, flaky = job["steps"]
    assert [(a["attempt"], a["status"], a["exitCode"]) for a in flaky["attempts"]] == [
        (1, "FAILED", 1),
        (2, "COMPLETED", 0),
    ]
    assert flaky["attempts"][0]["error"] == "exited with code 1"
    assert {a["agent"]["name"] for a in flaky["attempts"]} == {AGENT}
    assert all(a["durationSeconds"] >= 0 for a in flaky["attempts"])
    assert (flaky["attempt"], flaky["error"], flaky["errorDetail"]) == (2, None, None)
    # and each step's logs hold its own lines, marked with the attempt that wrote them
    lines = [edge["node"] for edge in flaky["logs"]["edges"]]
    assert [(line["stream"], line["message"], line["attempt"]) for line in lines] == [
        ("STDOUT", "try", 1),
        ("STDERR", "complaint", 1),
        ("STDOUT", "try", 2),
        ("STDERR", "complaint", 2),
    ]
    assert {line["step"] for line in lines} == {1}
    assert [edge["node"]["message"] for edge in prepare["logs"]["edges"]] == ["ready"]
    assert [a["status"] for a in prepare["attempts"]] == ["COMPLETED"]


async def test_a_failed_step_names_itself_and_keeps_its_last_stderr_lines(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(FAILING)

    number = (await dispatch(tgql, workflow="run-tests"))["job"]["number"]
    await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))

    job = (await tgql.execute(STEPS, number=number))["job"]
    step = job["steps"][1]
    assert job["error"] == "Step 2 (run-tests) failed: exited with code 1"
    assert step["error"] == job["error"]
    detail = step["errorDetail"].split("\n")
    assert detail == [f"failure {n}" for n in range(6, 25)] + ["x" * 500]
    assert step["attempts"][0]["exitCode"] == 1

"""What a dispatch says reaches the step's process; a job keeps the definition it was created
with, and its resend runs that definition too."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch, global_id
from tests.support.temporal import Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

DUMP_ENVIRONMENT = """
slug: context
effort:
  default: HIGH
  levels:
    MAX: {MODEL: large, MAX_TURNS: 80}
    HIGH: {MODEL: medium, MAX_TURNS: 40}
steps:
  - name: dump
    run: >-
      python3 -c 'import json, os; json.dump({k: v for k, v in os.environ.items()
      if k.startswith("JOB_")}, open(os.environ["JOB_OUTPUT"], "w"))'
"""
DETAIL = """
query($number: Int!) {
  job(number: $number) {
    source effortLevel effort output
    trigger { issueKey project }
    definition { version source steps { name run retries timeoutSeconds approval } }
  }
}
"""
RESEND = "mutation($id: ID!) { resendJob(id: $id) { job { number source } errors { message } } }"


def versioned(version: int, flag: Path) -> str:
    return f"""
slug: versioned
steps:
  - name: report
    run: |
      test -f {flag} && echo '{{"version": {version}}}' > "$JOB_OUTPUT"
    timeout_seconds: 30
"""


async def detail(gql: GraphQLClient, number: int) -> dict[str, Any]:
    job: dict[str, Any] = (await gql.execute(DETAIL, number=number))["job"]
    return job


async def test_every_job_variable_reaches_the_step(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    # Given a workflow whose step writes its JOB_* variables as its output
    await load_workflow(DUMP_ENVIRONMENT)

    # When an automation dispatches it at MAX effort, with a hint, a ticket and a trigger
    payload = await dispatch(
        tgql,
        workflow="context",
        input={"repo": "app"},
        effortLevel="MAX",
        hint="look at the cache",
        ticketUrl="https://tracker.example.com/browse/OPS-7",
        source="AUTOMATION",
        trigger={"issueKey": "OPS-7", "project": "OPS", "assignee": "ada"},
    )
    number = payload["job"]["number"]
    await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))

    # Then the step saw each of them, the effort values as the workflow maps MAX
    job = await detail(tgql, number)
    seen = job["output"]
    assert json.loads(seen.pop("JOB_INPUT")) == {
        "repo": "app",
        "trigger_project": "OPS",
        "trigger_assignee": "ada",
        "trigger_issue_key": "OPS-7",
    }
    # (the paths of the attempt's files: its workspace, output file and artifacts folder)
    assert seen["JOB_ARTIFACTS"].startswith(seen["JOB_WORKSPACE"])
    paths = ("JOB_WORKSPACE", "JOB_OUTPUT", "JOB_ARTIFACTS")
    assert {key: seen[key] for key in seen if key not in paths} == {
        "JOB_NUMBER": str(number),
        "JOB_INPUT_REPO": "app",
        "JOB_INPUT_TRIGGER_PROJECT": "OPS",
        "JOB_INPUT_TRIGGER_ASSIGNEE": "ada",
        "JOB_INPUT_TRIGGER_ISSUE_KEY": "OPS-7",
        "JOB_SOURCE": "AUTOMATION",
        "JOB_EFFORT": "MAX",
        "JOB_EFFORT_MODEL": "large",
        "JOB_EFFORT_MAX_TURNS": "80",
        "JOB_HINT": "look at the cache",
        "JOB_TICKET_URL": "https://tracker.example.com/browse/OPS-7",
        "JOB_TICKET_KEY": "OPS-7",
        "JOB_TRIGGER_PROJECT": "OPS",
        "JOB_TRIGGER_ASSIGNEE": "ada",
        "JOB_TRIGGER_ISSUE_KEY": "OPS-7",
    }
    # and the job shows where it came from and what its level resolved to
    assert job["source"] == "AUTOMATION"
    assert (job["effortLevel"], job["effort"]) == ("MAX", {"MODEL": "large", "MAX_TURNS": "80"})
    assert job["trigger"] == {"issueKey": "OPS-7", "project": "OPS"}


async def test_without_a_level_the_workflow_default_applies(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(DUMP_ENVIRONMENT)

    number = (await dispatch(tgql, workflow="context"))["job"]["number"]

    job = await detail(tgql, number)
    assert (job["source"], job["effortLevel"]) == ("RUN_WORKFLOW", "HIGH")
    assert job["effort"] == {"MODEL": "medium", "MAX_TURNS": "40"}
    await wait_for(tgql, number, status_is("COMPLETED", "FAILED"))


async def test_a_level_the_workflow_does_not_define_is_refused(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(DUMP_ENVIRONMENT)

    payload = await dispatch(tgql, workflow="context", effortLevel="MEDIUM")

    assert payload["job"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "effortLevel")
    assert "MEDIUM" in error["message"]


async def test_a_trigger_value_over_2000_characters_is_refused(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(DUMP_ENVIRONMENT)

    payload = await dispatch(tgql, workflow="context", trigger={"assignee": "a" * 2001})

    assert payload["job"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "trigger/assignee")


async def test_a_job_keeps_its_definition_after_a_reload_and_its_resend_runs_it(
    tgql: GraphQLClient, load_workflow: Loader, tmp_path: Path
) -> None:
    # Given a job of version 1 of a workflow, failed because its flag was missing
    flag = tmp_path / "flag"
    await load_workflow(versioned(1, flag))
    first = (await dispatch(tgql, workflow="versioned"))["job"]["number"]
    await wait_for(tgql, first, status_is("FAILED"))
    original = await detail(tgql, first)

    # When version 2 is loaded, the flag is set and the job is resent
    await load_workflow(versioned(2, flag))
    flag.touch()
    resend = await tgql.execute(RESEND, id=await global_id(tgql, first))
    resent = resend["resendJob"]["job"]
    fresh = (await dispatch(tgql, workflow="versioned"))["job"]["number"]

    # Then the original still shows version 1, and its resend ran version 1
    assert (await detail(tgql, first))["definition"] == original["definition"]
    assert 'version": 1' in original["definition"]["source"]
    assert original["definition"]["steps"] == [
        {
            "name": "report",
            "run": f'test -f {flag} && echo \'{{"version": 1}}\' > "$JOB_OUTPUT"\n',
            "retries": 0,
            "timeoutSeconds": 30,
            "approval": False,
        }
    ]
    assert resent["source"] == "RESEND"
    await wait_for(tgql, resent["number"], status_is("COMPLETED", "FAILED"))
    again = await detail(tgql, resent["number"])
    assert again["definition"]["version"] == original["definition"]["version"]
    assert again["output"] == {"version": 1}
    # while a new job runs version 2
    await wait_for(tgql, fresh, status_is("COMPLETED", "FAILED"))
    new = await detail(tgql, fresh)
    assert new["definition"]["version"] != original["definition"]["version"]
    assert new["output"] == {"version": 2}

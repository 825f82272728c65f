"""Re-running finished jobs and following them up, on a real Temporal dev server: reruns keep
what they do not change and may repeat; follow-ups start from their parent's output; the
original stays resendable; another tenant reaches neither."""

from pathlib import Path
from typing import Any

import pytest

from server.domain.roles import Role
from server.runtime import Runtime

from .support.auth import app_with, bearer, token_for
from .support.graphql import GraphQLClient, serving
from .support.mutations import dispatch, global_id
from .support.temporal import AGENT, Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

GREET = """
slug: greet
input_schema: {type: object, required: [name], properties: {name: {type: string}}}
steps:
  - name: greet
    run: |
      printf '{"greeted": "%s", "issue": "%s"}' \
        "$JOB_INPUT_NAME" "$JOB_INPUT_TRIGGER_ISSUE_KEY" > "$JOB_OUTPUT"
"""
PLAN = """
slug: plan
steps:
  - name: plan
    run: |
      echo '{"plan": "p-1", "target": "staging"}' > "$JOB_OUTPUT"
"""
APPLY = """
slug: apply
input_schema: {type: object, required: [plan], properties: {plan: {type: string}}}
steps:
  - name: apply
    run: |
      printf '{"applied": "%s", "to": "%s"}' "$JOB_INPUT_PLAN" "$JOB_INPUT_TARGET" > "$JOB_OUTPUT"
"""
FLAKY = """
slug: flaky
steps:
  - name: check
    run: test -f {flag}
"""
RERUN = """
mutation($id: ID!, $input: JSON, $agent: String, $effortLevel: EffortLevel) {
  rerunJob(id: $id, input: $input, agent: $agent, effortLevel: $effortLevel) {
    job { number status source input hint ticketKey effortLevel rerunOf { number } }
    errors { code message field }
  }
}
"""
RESEND = "mutation($id: ID!) { resendJob(id: $id) { job { number } errors { code } } }"
LINKS = """
query($number: Int!) {
  job(number: $number) {
    status source output input canResend trigger { issueKey } agent { name }
    rerunOf { number } reruns { number } parent { number } followUps { number }
  }
}
"""


async def links(gql: GraphQLClient, number: int) -> dict[str, Any]:
    job: dict[str, Any] = (await gql.execute(LINKS, number=number))["job"]
    return job


async def rerun(gql: GraphQLClient, number: int, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await gql.execute(RERUN, id=await global_id(gql, number), **changes)
    )["rerunJob"]
    return payload


async def test_a_completed_job_reruns_with_new_input_checked_and_its_context_kept(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    # Given a completed job dispatched with a hint, a ticket, an effort level and a trigger
    await load_workflow(GREET)
    original = (
        await dispatch(
            tgql,
            workflow="greet",
            input={"name": "ada", "trigger_issue_key": "OPS-7"},
            hint="be brief",
            ticketKey="OPS-7",
            effortLevel="HIGH",
        )
    )["job"]["number"]
    await wait_for(tgql, original, status_is("COMPLETED"))

    # When it is re-run with an input the schema refuses, then with a good one
    refused = await rerun(tgql, original, input={"name": 3})
    payload = await rerun(tgql, original, input={"name": "grace"})

    # Then the bad input is VALIDATION on its path and makes nothing
    assert refused["job"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "input/name")]
    # and the good one runs the same workflow with the new input and the original's context
    assert payload["errors"] == []
    job = payload["job"]
    assert (job["rerunOf"], job["source"]) == ({"number": original}, "RERUN")
    assert (job["hint"], job["ticketKey"], job["effortLevel"]) == ("be brief", "OPS-7", "HIGH")
    assert job["input"] == {"name": "grace", "trigger_issue_key": "OPS-7"}
    done = await wait_for(tgql, job["number"], status_is("COMPLETED"))
    assert done["output"] == {"greeted": "grace", "issue": "OPS-7"}
    assert (await links(tgql, job["number"]))["trigger"] == {"issueKey": "OPS-7"}
    assert (await links(tgql, original))["reruns"] == [{"number": job["number"]}]


async def test_a_failed_job_reruns_three_times_and_can_still_be_resent_once(
    tgql: GraphQLClient, load_workflow: Loader, tmp_path: Path
) -> None:
    # Given a job that failed, and one still running
    await load_workflow(FLAKY.format(flag=tmp_path / "flag"))
    original = (await dispatch(tgql, workflow="flaky"))["job"]["number"]
    await wait_for(tgql, original, status_is("FAILED"))

    # When it is re-run three times, each on the agent that ran it
    numbers = []
    for _ in range(3):
        payload = await rerun(tgql, original)
        assert payload["errors"] == []
        numbers.append(payload["job"]["number"])

    # Then there are three reruns, newest first, each its own job that ran
    for number in numbers:
        await wait_for(tgql, number, status_is("FAILED"))
        ran = await links(tgql, number)
        assert ran["rerunOf"] == {"number": original}
        assert ran["agent"] == {"name": AGENT}
    before = await links(tgql, original)
    assert before["reruns"] == [{"number": n} for n in reversed(numbers)]
    # and the original is still resendable, once
    assert before["canResend"] is True
    job_id = await global_id(tgql, original)
    first = (await tgql.execute(RESEND, id=job_id))["resendJob"]
    second = (await tgql.execute(RESEND, id=job_id))["resendJob"]
    assert first["errors"] == []
    assert [e["code"] for e in second["errors"]] == ["ALREADY_RESENT"]


async def test_a_job_that_has_not_ended_cannot_be_rerun_or_followed_up(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(PLAN)
    await load_workflow(APPLY)
    later = (await dispatch(tgql, workflow="plan", scheduledFor="2099-01-01T00:00:00Z"))["job"]
    refused = await rerun(tgql, later["number"])
    follow = await dispatch(
        tgql,
        workflow="apply",
        followUpOf=await global_id(tgql, later["number"]),
        input={"plan": "x"},
    )
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_TRANSITION", "id")]
    assert [(e["code"], e["field"]) for e in follow["errors"]] == [
        ("INVALID_TRANSITION", "followUpOf")
    ]


async def test_a_follow_up_starts_from_its_parent_output_under_its_own_input(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    # Given a finished plan job whose output is an object
    await load_workflow(PLAN)
    await load_workflow(APPLY)
    plan = (await dispatch(tgql, workflow="plan"))["job"]["number"]
    await wait_for(tgql, plan, status_is("COMPLETED"))

    # When an apply job follows it up on a chosen agent, overriding one value
    payload = await dispatch(
        tgql,
        workflow="apply",
        agent=AGENT,
        followUpOf=await global_id(tgql, plan),
        input={"target": "prod"},
    )

    # Then its input is the plan's output under the given input, and it runs with it
    assert payload["errors"] == []
    number = payload["job"]["number"]
    done = await wait_for(tgql, number, status_is("COMPLETED"))
    assert done["output"] == {"applied": "p-1", "to": "prod"}
    child = await links(tgql, number)
    assert child["input"] == {"plan": "p-1", "target": "prod"}
    assert (child["parent"], child["source"]) == ({"number": plan}, "FOLLOW_UP")
    assert (await links(tgql, plan))["followUps"] == [{"number": number}]


async def test_another_tenant_cannot_see_rerun_or_follow_up_a_job_and_a_viewer_cannot_rerun(
    tgql: GraphQLClient, load_workflow: Loader, temporal_runtime: Runtime, tenant: str
) -> None:
    # Given tenant A's finished job, B's admin token and A's viewer token
    await load_workflow(PLAN)
    await load_workflow(APPLY)
    number = (await dispatch(tgql, workflow="plan"))["job"]["number"]
    await wait_for(tgql, number, status_is("COMPLETED"))
    job_id = await global_id(tgql, number)
    b_admin = await token_for(temporal_runtime, Role.ADMIN, tenant=f"{tenant}-b")
    a_viewer = await token_for(temporal_runtime, Role.VIEWER, tenant=tenant)
    async with serving(app_with(temporal_runtime)) as http:

        async def ask(token: str, query: str, **variables: Any) -> dict[str, Any]:
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=bearer(token)
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            return body["data"]

        # When B reads, re-runs and follows it up, and A's viewer re-runs it
        seen = await ask(b_admin, LINKS, number=number)
        b_rerun = (await ask(b_admin, RERUN, id=job_id))["rerunJob"]
        b_follow = (
            await ask(
                b_admin,
                "mutation($input: DispatchJobInput!) { dispatchJob(input: $input) "
                "{ job { number } errors { code field } } }",
                input={"workflow": "apply", "followUpOf": job_id, "input": {"plan": "x"}},
            )
        )["dispatchJob"]
        viewer = (await ask(a_viewer, RERUN, id=job_id))["rerunJob"]

    # Then B sees nothing and reaches nothing, the viewer is refused, and nothing was made
    assert seen == {"job": None}
    assert [e["code"] for e in b_rerun["errors"]] == ["NOT_FOUND"]
    assert [(e["code"], e["field"]) for e in b_follow["errors"]] == [("NOT_FOUND", "followUpOf")]
    assert [e["code"] for e in viewer["errors"]] == ["FORBIDDEN"]
    assert (await links(tgql, number))["reruns"] == []
    assert (await links(tgql, number))["followUps"] == []

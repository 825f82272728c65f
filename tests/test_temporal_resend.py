"""Resending failed jobs on Temporal: exactly once under a race, and from the failed step."""

import asyncio
from pathlib import Path

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch, global_id
from tests.support.temporal import Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

RESEND = """
mutation($id: ID!, $fromFailedStep: Boolean) {
  resendJob(id: $id, fromFailedStep: $fromFailedStep) {
    job { number status resentFrom { number } }
    errors { code message }
  }
}
"""
RESENT_AS = "query($number: Int!) { job(number: $number) { canResend resentAs { number } } }"
CONCURRENT_RESENDS = 50


def flaky(flag: Path) -> str:
    """Fails at `check` until `flag` exists."""
    return f"""
slug: flaky
steps:
  - name: fetch
    run: |
      echo '{{"fetched": 3}}' > "$JOB_OUTPUT"
  - name: check
    run: test -f {flag}
  - name: report
    run: echo reported
"""


async def failed_job(gql: GraphQLClient, load_workflow: Loader, flag: Path) -> int:
    await load_workflow(flaky(flag))
    number: int = (await dispatch(gql, workflow="flaky", input={"n": 1}))["job"]["number"]
    await wait_for(gql, number, status_is("FAILED"))
    return number


async def test_fifty_concurrent_resends_make_exactly_one_job(
    tgql: GraphQLClient, load_workflow: Loader, tmp_path: Path
) -> None:
    # Given a failed job
    number = await failed_job(tgql, load_workflow, tmp_path / "flag")
    job_id = await global_id(tgql, number)

    # When it is resent fifty times at once
    answers = await asyncio.gather(
        *(tgql.execute(RESEND, id=job_id) for _ in range(CONCURRENT_RESENDS))
    )

    # Then one resend made a job and every other one answered ALREADY_RESENT
    payloads = [answer["resendJob"] for answer in answers]
    made = [payload["job"] for payload in payloads if payload["job"] is not None]
    assert len(made) == 1
    assert made[0]["resentFrom"] == {"number": number}
    codes = [error["code"] for payload in payloads for error in payload["errors"]]
    assert codes == ["ALREADY_RESENT"] * (CONCURRENT_RESENDS - 1)
    original = (await tgql.execute(RESENT_AS, number=number))["job"]
    assert original == {"canResend": False, "resentAs": {"number": made[0]["number"]}}
    # and the new job runs (and fails again: nothing fixed the step)
    await wait_for(tgql, made[0]["number"], status_is("FAILED"))


async def test_resending_from_the_failed_step_skips_the_steps_before_it(
    tgql: GraphQLClient, load_workflow: Loader, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    number = await failed_job(tgql, load_workflow, flag)
    flag.touch()

    payload = (await tgql.execute(RESEND, id=await global_id(tgql, number), fromFailedStep=True))[
        "resendJob"
    ]

    assert payload["errors"] == []
    job = await wait_for(tgql, payload["job"]["number"], status_is("COMPLETED", "FAILED"))
    assert job["status"] == "COMPLETED"
    assert [(s["name"], s["status"]) for s in job["steps"]] == [
        ("fetch", "SKIPPED"),
        ("check", "COMPLETED"),
        ("report", "COMPLETED"),
    ]
    assert job["steps"][0]["output"] == {"fetched": 3}
    assert job["output"] == {"fetched": 3}

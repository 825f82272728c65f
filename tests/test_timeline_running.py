"""A running job's timeline: its detail counts the history as it grows (DescribeWorkflowExecution),
a page says it runs without numbers and costs no call per running job."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.runtime import Runtime
from server.timeline.runs import human_size
from tests.support.graphql import GraphQLClient, serving
from tests.support.temporal import status_is, wait_for
from tests.support.timeline import with_timeline
from tests.support.timeline_rpc import DESCRIBE, LIST, recording_rpcs
from tests.support.waiting import eventually

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

DISPATCH = """
mutation Dispatch($input: DispatchJobInput!) {
  dispatchJob(input: $input) { job { number } errors { message } }
}
"""
DETAIL = """
query Detail($number: Int!) {
  job(number: $number) {
    timeline { available status eventCount sizeBytes shortRunId headline }
  }
}
"""
PAGE = """
{ jobs(first: 5) { edges { node {
  number timeline { status eventCount sizeBytes shortRunId headline }
} } } }
"""
GATED = """
slug: gated
steps:
  - name: first
    run: while [ ! -e "{gate}/first" ]; do sleep 0.05; done
  - name: second
    run: while [ ! -e "{gate}/second" ]; do sleep 0.05; done
"""


async def test_a_running_jobs_detail_counts_its_history_as_it_grows(
    temporal_runtime: Runtime, load_workflow: Any, tmp_path: Path
) -> None:
    # given a job whose steps each wait for a file, and summaries of open runs kept briefly
    await load_workflow(GATED.replace("{gate}", str(tmp_path)))
    runtime = with_timeline(temporal_runtime, timeline_open_ttl=0.05)
    assert runtime.timeline is not None
    async with serving(create_app(runtime=runtime)) as http:
        gql = GraphQLClient(http)
        payload = (await gql.execute(DISPATCH, input={"workflow": "gated"}))["dispatchJob"]
        number = payload["job"]["number"]
        try:
            # when its detail is read while the first step runs
            first = await detail_until(gql, number, lambda t: t["eventCount"])
            with recording_rpcs(await runtime.timeline.gateway.client()) as rpcs:
                await asyncio.sleep(0.05)  # past the open TTL: both reads ask Temporal
                detail = (await gql.execute(DETAIL, number=number))["job"]["timeline"]
                detail_calls = sorted(rpcs.calls)
                rpcs.clear()
                await asyncio.sleep(0.05)
                page = (await gql.execute(PAGE))["jobs"]["edges"]
                page_calls = list(rpcs.calls)
            # and again once the first step has ended
            (tmp_path / "first").touch()
            later = await detail_until(gql, number, lambda t: t["eventCount"] > first["eventCount"])
        finally:
            (tmp_path / "first").touch()
            (tmp_path / "second").touch()
            await wait_for(gql, number, status_is("COMPLETED", "FAILED"))
    # then the detail counts the running history, in the one describe call its phases share
    assert first["status"] == later["status"] == "RUNNING"
    assert first["eventCount"] > 0
    assert first["sizeBytes"] > 0
    assert first["headline"] == (
        f"Job: RUNNING | {first['eventCount']} events | {human_size(first['sizeBytes'])} | "
        f"{first['shortRunId']}"
    )
    assert detail["eventCount"] >= first["eventCount"]
    assert detail_calls == [DESCRIBE, LIST]
    # and the count grows as the job moves on
    assert later["eventCount"] > first["eventCount"]
    assert later["sizeBytes"] > first["sizeBytes"]
    # while a page says it runs, without numbers and without a call per running job
    (on_page,) = [e["node"]["timeline"] for e in page if e["node"]["number"] == number]
    assert on_page == {
        "status": "RUNNING",
        "eventCount": None,
        "sizeBytes": None,
        "shortRunId": first["shortRunId"],
        "headline": f"Job: RUNNING | {first['shortRunId']}",
    }
    assert page_calls == [LIST]


async def detail_until(
    gql: GraphQLClient, number: int, ready: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Read the job's timeline until it shows the run running and `ready(timeline)` holds
    (visibility lists a new run after a moment)."""

    async def there() -> dict[str, Any]:
        timeline: dict[str, Any] = (await gql.execute(DETAIL, number=number))["job"]["timeline"]
        assert timeline["status"] == "RUNNING", f"job #{number}'s timeline: {timeline}"
        assert ready(timeline), f"job #{number}'s timeline: {timeline}"
        return timeline

    return await eventually(there, 20)

"""Job.timeline over GraphQL against a real dev server, counting the Temporal calls made."""

import asyncio
import time
from typing import Any

import pytest
from temporalio.client import Client

from server.app import create_app
from server.db.models import pipeline_id
from server.domain.enums import JobStatus
from server.runtime import Runtime
from server.timeline.summaries import NOT_FOUND, Lookup
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient, serving
from tests.support.timeline import Probe, unique_number, with_timeline
from tests.support.timeline_rpc import DESCRIBE, HISTORY, LIST, RpcLog, recording_rpcs
from tests.support.waiting import eventually

PAGE_SUMMARY = """
query Page {
  jobs(first: 50) { edges { node {
    number status
    timeline { available unavailableReason status eventCount sizeBytes shortRunId headline }
  } } }
}
"""
PAGE_PHASES = """
query Page {
  jobs(first: 50) { edges { node {
    number
    timeline { phases { name activityCount durationMs entries { name status attempt } } }
  } } }
}
"""
JOB_TIMELINE = """
query Job($number: Int!) {
  job(number: $number) {
    number status
    timeline {
      available unavailableReason status eventCount shortRunId statusMismatch
      phases {
        name startedAt completedAt durationMs activityCount
        entries { name status attempt durationMs workflow agent lastHeartbeatAt }
      }
    }
  }
}
"""


@pytest.fixture(scope="session")
async def closed_runs(probe: Probe) -> list[str]:
    """50 workflows of the session that have ended (two steps, the first one retried once):
    jobs of any test may point at them."""
    return await probe_runs(probe, 50, ["flaky", "ok"])


async def probe_runs(probe: Probe, count: int, steps: list[str]) -> list[str]:
    """The workflow ids of `count` probe jobs that have ended and are visible as such."""
    numbers = [unique_number() for _ in range(count)]
    handles = await asyncio.gather(*(probe.start(steps, number=n) for n in numbers))
    await asyncio.gather(*(handle.result() for handle in handles))
    await wait_until_visible(probe.client, numbers, closed=True)
    return [pipeline_id(number) for number in numbers]


async def jobs_of(
    runtime: Runtime, tenant: str, workflow_ids: list[str], status: JobStatus
) -> list[int]:
    """A job of the tenant for each workflow id, numbered afresh."""
    specs = [job_spec(unique_number(), status, workflow_id) for workflow_id in workflow_ids]
    await build_world(runtime.session_factory, tenant, specs)
    return [spec["number"] for spec in specs]


def job_spec(number: int, status: JobStatus, workflow_id: str | None = None) -> dict[str, Any]:
    return {
        "number": number,
        "status": status,
        "temporal_workflow_id": workflow_id or pipeline_id(number),
    }


async def wait_until_visible(client: Client, numbers: list[int], *, closed: bool) -> None:
    """Visibility is eventually consistent: wait until it lists every run (as closed)."""
    ids = ", ".join(f"'{pipeline_id(number)}'" for number in numbers)
    query = f"WorkflowId IN ({ids})" + (" AND ExecutionStatus != 'Running'" if closed else "")

    async def visible() -> bool:
        return (await client.count_workflows(query)).count >= len(numbers)

    await eventually(visible, 10)


@pytest.fixture
async def tl(timeline_runtime: Runtime) -> Any:
    async with serving(create_app(runtime=timeline_runtime)) as http:
        yield GraphQLClient(http)


async def test_a_page_of_50_jobs_reads_its_summaries_in_one_call(
    timeline_runtime: Runtime,
    tenant: str,
    closed_runs: list[str],
    tl: GraphQLClient,
    timeline_rpcs: RpcLog,
) -> None:
    # given 50 jobs whose workflows completed
    await jobs_of(timeline_runtime, tenant, closed_runs, JobStatus.COMPLETED)
    # when the page asks for each job's timeline summary
    data = await tl.execute(PAGE_SUMMARY)
    # then one visibility call answered all of them
    assert timeline_rpcs.calls == [LIST]
    timelines = [edge["node"]["timeline"] for edge in data["jobs"]["edges"]]
    assert len(timelines) == 50
    for timeline in timelines:
        assert timeline["available"] is True
        assert timeline["status"] == "COMPLETED"
        assert timeline["eventCount"] > 10
        assert timeline["sizeBytes"] > 1000
        assert len(timeline["shortRunId"]) == 8
        assert timeline["headline"].startswith(f"Job: COMPLETED | {timeline['eventCount']} events")


async def test_20_concurrent_requests_for_a_page_share_at_most_2_calls(
    timeline_runtime: Runtime,
    tenant: str,
    closed_runs: list[str],
    tl: GraphQLClient,
    timeline_rpcs: RpcLog,
) -> None:
    await jobs_of(timeline_runtime, tenant, closed_runs, JobStatus.COMPLETED)
    pages = await asyncio.gather(*(tl.execute(PAGE_SUMMARY) for _ in range(20)))
    assert timeline_rpcs.count() <= 2
    assert set(timeline_rpcs.calls) == {LIST}
    for page in pages:
        assert {e["node"]["timeline"]["status"] for e in page["jobs"]["edges"]} == {"COMPLETED"}


async def test_phases_read_each_history_once_then_never_for_closed_jobs(
    timeline_runtime: Runtime,
    tenant: str,
    closed_runs: list[str],
    tl: GraphQLClient,
    timeline_rpcs: RpcLog,
) -> None:
    # given 50 completed jobs of two steps, one of them retried
    await jobs_of(timeline_runtime, tenant, closed_runs, JobStatus.COMPLETED)
    # when the page asks for their phases, twice
    first = await tl.execute(PAGE_PHASES)
    first_calls = list(timeline_rpcs.calls)
    timeline_rpcs.clear()
    second = await tl.execute(PAGE_PHASES)
    # then the first time reads each history once, the second time reads nothing
    assert first_calls.count(HISTORY) == len(closed_runs)
    assert first_calls.count(LIST) == 1
    assert DESCRIBE not in first_calls
    assert timeline_rpcs.calls == []
    assert first == second
    for edge in first["jobs"]["edges"]:
        phases = edge["node"]["timeline"]["phases"]
        assert [(p["name"], p["activityCount"]) for p in phases] == [
            ("Init", 1),
            ("Agent Setup", 1),
            ("Execution", 2),
            ("Teardown", 1),
        ]
        assert [(e["status"], e["attempt"]) for e in phases[2]["entries"]] == [
            ("COMPLETED", 2),
            ("COMPLETED", 1),
        ]


async def test_a_job_unknown_to_temporal_answers_no_history_in_one_call(
    timeline_runtime: Runtime, tenant: str, tl: GraphQLClient, timeline_rpcs: RpcLog
) -> None:
    number = unique_number()
    await build_world(
        timeline_runtime.session_factory, tenant, [job_spec(number, JobStatus.PENDING)]
    )
    job = (await tl.execute(JOB_TIMELINE, number=number))["job"]
    assert job["status"] == "PENDING"
    assert job["timeline"]["available"] is False
    assert job["timeline"]["unavailableReason"] == "no workflow history"
    assert job["timeline"]["phases"] == []
    assert timeline_rpcs.calls == [LIST]


async def test_a_running_job_shows_its_step_in_flight(
    timeline_runtime: Runtime, tenant: str, probe: Probe, tl: GraphQLClient, timeline_rpcs: RpcLog
) -> None:
    # given a job whose second step is running
    number = unique_number()
    handle = await probe.start(["ok", "block"], number=number)
    await build_world(
        timeline_runtime.session_factory, tenant, [job_spec(number, JobStatus.RUNNING)]
    )
    try:
        await wait_until_visible(probe.client, [number], closed=False)
        timeline = await wait_for_heartbeat(tl, number)
    finally:
        probe.activities.released.add(number)
    # then the orchestrator says RUNNING and the step shows its attempt and heartbeat
    assert timeline["status"] == "RUNNING"
    assert timeline["statusMismatch"] is None
    execution = timeline["phases"][2]
    assert execution["completedAt"] is None
    running = execution["entries"][-1]
    assert running["status"] == "RUNNING"
    assert running["attempt"] == 1
    assert running["lastHeartbeatAt"] is not None
    assert timeline_rpcs.count(DESCRIBE) >= 1
    await handle.result()


async def wait_for_heartbeat(tl: GraphQLClient, number: int) -> dict[str, Any]:

    async def heartbeating() -> dict[str, Any]:
        timeline: dict[str, Any] = (await tl.execute(JOB_TIMELINE, number=number))["job"][
            "timeline"
        ]
        entries = timeline["phases"][2]["entries"] if timeline["phases"] else []
        assert entries, timeline
        assert entries[-1]["lastHeartbeatAt"] is not None, timeline
        return timeline

    return await eventually(heartbeating, 10)


async def test_a_job_whose_status_disagrees_shows_the_mismatch(
    timeline_runtime: Runtime, tenant: str, closed_runs: list[str], tl: GraphQLClient
) -> None:
    (stuck,) = await jobs_of(timeline_runtime, tenant, closed_runs[:1], JobStatus.RUNNING)
    job = (await tl.execute(JOB_TIMELINE, number=stuck))["job"]
    assert job["timeline"]["statusMismatch"] == "portal says running, orchestrator says COMPLETED"


async def test_a_running_job_is_never_served_older_than_the_ttl(
    runtime: Runtime, tenant: str, probe: Probe, temporal_address: str
) -> None:
    # given a running job, and summaries of open runs kept for 0.3 s
    ttl = 0.3
    fresh = with_timeline(runtime, temporal_address=temporal_address, timeline_open_ttl=ttl)
    number = unique_number()
    await probe.start(["block"], number=number)
    await build_world(fresh.session_factory, tenant, [job_spec(number, JobStatus.RUNNING)])
    assert fresh.timeline is not None
    try:
        await wait_until_visible(probe.client, [number], closed=False)
        async with serving(create_app(runtime=fresh)) as http:
            gql = GraphQLClient(http)
            with recording_rpcs(await fresh.timeline.gateway.client()) as rpcs:
                # when it is read three times: twice within the TTL, once after it
                for _ in range(2):
                    await gql.execute(JOB_TIMELINE, number=number)
                within = list(rpcs.calls)
                await asyncio.sleep(ttl)
                await gql.execute(JOB_TIMELINE, number=number)
    finally:
        probe.activities.released.add(number)
    # then the second read is served from the caches, the third reads Temporal again
    assert sorted(within) == sorted([LIST, HISTORY, DESCRIBE])
    assert sorted(rpcs.calls[len(within) :]) == sorted([LIST, HISTORY, DESCRIBE])


async def test_requests_for_different_jobs_within_the_window_share_one_call(
    runtime: Runtime, tenant: str, closed_runs: list[str], temporal_address: str
) -> None:
    # given two jobs, and a batching window wide enough for this busy machine
    shared = with_timeline(runtime, temporal_address=temporal_address, temporal_batch_window=0.1)
    first, second = await jobs_of(shared, tenant, closed_runs[:2], JobStatus.COMPLETED)
    assert shared.timeline is not None
    async with serving(create_app(runtime=shared)) as http:
        gql = GraphQLClient(http)
        with recording_rpcs(await shared.timeline.gateway.client()) as rpcs:
            # when two requests, one for each job, come at once
            jobs = await asyncio.gather(
                gql.execute(JOB_TIMELINE, number=first), gql.execute(JOB_TIMELINE, number=second)
            )
    # then one visibility call answered both
    assert [job["job"]["timeline"]["status"] for job in jobs] == ["COMPLETED", "COMPLETED"]
    assert rpcs.count(LIST) == 1


async def test_visibility_calls_keep_to_the_rate_budget(
    runtime: Runtime, temporal_address: str
) -> None:
    # given a budget of 5 calls a second (2 at once), and lookups of new ids every 20 ms
    budgeted = with_timeline(runtime, temporal_address=temporal_address, temporal_visibility_rate=5)
    assert budgeted.timeline is not None
    summaries = budgeted.timeline.summaries
    with recording_rpcs(await budgeted.timeline.gateway.client()) as rpcs:

        async def lookup_later(delay: float) -> dict[str, Lookup | BaseException]:
            await asyncio.sleep(delay)
            return await summaries.lookup([pipeline_id(unique_number())])

        started = time.monotonic()
        answers = await asyncio.gather(*(lookup_later(0.02 * i) for i in range(20)))
        elapsed = time.monotonic() - started
    # then every lookup is answered, by at most the calls the budget allows in that time
    assert all(list(answer.values()) == [NOT_FOUND] for answer in answers)
    assert rpcs.count(LIST) <= 2 + 5 * elapsed
    assert rpcs.count(LIST) < 20

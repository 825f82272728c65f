"""jobTimeline: a job's timeline pushed as its activities move, over a real uvicorn socket; one
Temporal lookup per change, whatever the number of subscribers."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from strawberry.relay import GlobalID
from temporalio.client import WorkflowHandle

from resolvers.ids import JOB_TYPE
from server.app import create_app
from server.domain.enums import JobStatus
from server.events import JobChanged
from server.runtime import Runtime
from tests.support.factories import build_world
from tests.support.jobs import dispatch_job
from tests.support.servers import serve
from tests.support.timeline import Probe, unique_number, with_timeline
from tests.support.timeline_rpc import DESCRIBE, HISTORY, recording_rpcs
from tests.support.waiting import eventually
from tests.support.websocket import TRANSPORT_WS, GraphQLWebSocket, graphql_ws

from .test_timeline_api import job_spec, wait_until_visible

TIMELINE = """
subscription Timeline($id: ID!) {
  jobTimeline(id: $id) {
    available status eventCount headline
    phases { name entries { name status attempt } }
  }
}
"""
# Another selection: its subscribers run an execution of their own (no shared cohort).
TIMELINE_STATUSES = """
subscription Statuses($id: ID!) {
  jobTimeline(id: $id) { status phases { name entries { status } } }
}
"""
GATED = """
slug: gated-once
steps:
  - name: wait
    run: while [ ! -e "{gate}" ]; do sleep 0.05; done
"""


async def _heartbeating(handle: WorkflowHandle[Any, str]) -> bool:
    """Whether the run's step in flight has heartbeated (it has started for sure)."""
    pending = (await handle.describe()).raw_description.pending_activities
    return any(info.HasField("last_heartbeat_time") for info in pending)


def job_id(number: int) -> str:
    return str(GlobalID(JOB_TYPE, str(number)))


def execution_states(timeline: dict[str, Any]) -> list[str]:
    """The states of the Execution phase's entries (none before the run is known)."""
    phases = {phase["name"]: phase for phase in timeline["phases"]}
    return [entry["status"] for entry in phases.get("Execution", {"entries": []})["entries"]]


async def next_until(
    client: GraphQLWebSocket, operation: str, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The pushed timelines until one is `ready` (each push must come within the client's
    receive deadline)."""
    while True:
        timeline: dict[str, Any] = (await client.next(operation))["jobTimeline"]
        if ready(timeline):
            return timeline


@pytest.mark.usefixtures("control_plane", "agent")
async def test_a_subscriber_sees_a_running_step_complete_and_the_run_end(
    temporal_runtime: Runtime, load_workflow: Any, tmp_path: Path
) -> None:
    # given a job whose only step waits for a file, and a subscriber to its timeline
    gate = tmp_path / "gate"
    await load_workflow(GATED.replace("{gate}", str(gate)))
    runtime = with_timeline(temporal_runtime)
    async with serve(create_app(runtime=runtime)) as server:
        job = await dispatch_job(runtime, runtime.settings.default_tenant, "gated-once")
        async with graphql_ws(server.ws_url, TRANSPORT_WS) as client:
            await client.subscribe("t", TIMELINE, id=job_id(job.number))
            try:
                # when the step runs, then ends
                running = await next_until(
                    client, "t", lambda t: bool(set(execution_states(t)) & {"SCHEDULED", "RUNNING"})
                )
                gate.touch()
                done = await next_until(client, "t", lambda t: t["status"] == "COMPLETED")
            finally:
                gate.touch()
    # then the subscriber saw the Execution entry go from in flight to completed, and the end
    assert running["status"] == "RUNNING"
    assert running["eventCount"] > 0
    assert execution_states(done) == ["COMPLETED"]
    assert [phase["name"] for phase in done["phases"]] == [
        "Init",
        "Agent Setup",
        "Execution",
        "Teardown",
    ]
    assert done["eventCount"] > running["eventCount"]


async def test_two_subscribers_of_a_job_cost_one_temporal_lookup_per_change(
    runtime: Runtime, tenant: str, probe: Probe, temporal_address: str
) -> None:
    # given a job whose step is in flight, and two subscribers with different selections
    number = unique_number()
    handle = await probe.start(["block"], number=number)
    await build_world(runtime.session_factory, tenant, [job_spec(number, JobStatus.RUNNING)])
    watched = with_timeline(runtime, temporal_address=temporal_address)
    assert watched.timeline is not None
    try:
        await wait_until_visible(probe.client, [number], closed=False)
        await eventually(lambda: _heartbeating(handle), 10)
        async with (
            serve(create_app(runtime=watched)) as server,
            graphql_ws(server.ws_url, TRANSPORT_WS) as first,
            graphql_ws(server.ws_url, TRANSPORT_WS) as second,
        ):
            await first.subscribe("a", TIMELINE, id=job_id(number))
            await second.subscribe("b", TIMELINE_STATUSES, id=job_id(number))
            assert execution_states((await first.next("a"))["jobTimeline"]) == ["RUNNING"]
            assert execution_states((await second.next("b"))["jobTimeline"]) == ["RUNNING"]
            assert watched.timeline.watches.watching() == 1
            with recording_rpcs(await watched.timeline.gateway.client()) as rpcs:
                # when the step ends and the run completes, and the job's change is published
                probe.activities.released.add(number)
                await handle.result()
                await watched.bus.publish([JobChanged(tenant=tenant, job_number=number)])
                # then both subscribers get the new timeline
                seen_first = await next_until(first, "a", lambda t: t["status"] == "COMPLETED")
                seen_second = await next_until(second, "b", lambda t: t["status"] == "COMPLETED")
                lookup = sorted(rpcs.calls)
                # and a second change costs one more describe (a closed run's phases are kept)
                await watched.bus.publish([JobChanged(tenant=tenant, job_number=number)])
                await first.next("a")
                await second.next("b")
    finally:
        probe.activities.released.add(number)
    # one lookup served both: one describe and one history read, then one describe
    assert lookup == sorted([DESCRIBE, HISTORY])
    assert sorted(rpcs.calls) == sorted([DESCRIBE, HISTORY, DESCRIBE])
    assert execution_states(seen_first) == ["COMPLETED"]
    assert execution_states(seen_second) == ["COMPLETED"]


@pytest.mark.parametrize(
    ("temporal", "code"), [(False, "ORCHESTRATOR_UNAVAILABLE"), (True, "NOT_FOUND")]
)
async def test_a_timeline_subscription_without_temporal_or_job_is_an_error(
    runtime: Runtime, temporal_address: str, temporal: bool, code: str
) -> None:
    # given a server without Temporal, or one with Temporal asked about a job that is not there
    served = with_timeline(runtime, temporal_address=temporal_address) if temporal else runtime
    number = unique_number()
    async with (
        serve(create_app(runtime=served)) as server,
        graphql_ws(server.ws_url, TRANSPORT_WS) as client,
    ):
        await client.subscribe("t", TIMELINE, id=job_id(number))
        message = await client.receive()
    payload = message["payload"]
    errors = payload["errors"] if message["type"] == "next" else payload
    assert errors[0]["extensions"]["code"] == code

"""A Temporal that stops, hangs or refuses: timelines answer 'Temporal unreachable' within the
lookup timeout, the rest of the job still answers, and closed runs already read stay shown."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from server.app import create_app
from server.db.models import pipeline_id
from server.domain.enums import JobStatus
from server.net import free_port
from server.runtime import Runtime
from server.temporal.dev_server import dev_server
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient, serving
from tests.support.timeline import Probe, unique_number, with_timeline
from tests.support.timeline_probe import ProbeActivities, TimelineProbe
from tests.support.timeline_rpc import LIST, RpcLog, recording_rpcs
from tests.support.waiting import eventually

TIMEOUT = 0.5
# Far above the lookup timeout and far below a hung connection: a page that is not answered
# within it waited on Temporal.
HANG_GUARD = 20 * TIMEOUT
PAGE = """
query Page {
  jobs(first: 50) { edges { node {
    number status workflow { slug }
    timeline { available unavailableReason status phases { name } }
  } } }
}
"""


def timelines(page: dict[str, object]) -> dict[int, dict[str, object]]:
    edges = page["jobs"]["edges"]  # type: ignore[index]
    return {edge["node"]["number"]: edge["node"]["timeline"] for edge in edges}


async def add_jobs(runtime: Runtime, tenant: str, numbers: list[int]) -> None:
    specs = [
        {"number": n, "status": JobStatus.COMPLETED, "temporal_workflow_id": pipeline_id(n)}
        for n in numbers
    ]
    await build_world(runtime.session_factory, tenant, specs)


async def test_a_server_stopped_mid_suite_leaves_known_runs_and_marks_the_rest(
    runtime: Runtime, tenant: str
) -> None:
    seen, unseen = unique_number(), unique_number()
    await add_jobs(runtime, tenant, [seen, unseen])
    # given a Temporal of its own where both jobs ran, and one job's timeline already read
    async with dev_server() as address:
        timeline_runtime = with_timeline(
            runtime, temporal_address=address, temporal_lookup_timeout=TIMEOUT
        )
        client = await Client.connect(address)
        probe = Probe(client, f"probe-{uuid.uuid4().hex[:8]}", ProbeActivities())
        async with Worker(
            client,
            task_queue=probe.task_queue,
            workflows=[TimelineProbe],
            activities=probe.activities.all(),
        ):
            await probe.run(["ok"], number=seen)
            await probe.run(["ok"], number=unseen)
        async with serving(create_app(runtime=timeline_runtime)) as http:
            await wait_until_completed(GraphQLClient(http), seen)
    # when the server has stopped and the page is read
    async with serving(create_app(runtime=timeline_runtime)) as http:
        assert timeline_runtime.timeline is not None
        with recording_rpcs(await timeline_runtime.timeline.gateway.client()) as rpcs:
            async with asyncio.timeout(HANG_GUARD):
                page = await GraphQLClient(http).execute(PAGE)
    # then the run read before is still shown, the other one is unreachable, quickly
    shown = timelines(page)
    assert shown[seen]["available"] is True
    assert shown[seen]["status"] == "COMPLETED"
    assert [phase["name"] for phase in shown[seen]["phases"]] == [  # type: ignore[index]
        "Init",
        "Agent Setup",
        "Execution",
        "Teardown",
    ]
    assert shown[unseen] == {
        "available": False,
        "unavailableReason": "Temporal unreachable",
        "status": None,
        "phases": [],
    }
    assert {edge["node"]["workflow"]["slug"] for edge in page["jobs"]["edges"]} == {"se-rca-fix"}
    # and it tried Temporal once, for the run it had not read, and did not retry
    assert rpcs.calls == [LIST]


async def wait_until_completed(gql: GraphQLClient, number: int) -> None:
    """Visibility is eventually consistent: read until the run shows as completed."""
    query = "query($n: Int!) { job(number: $n) { timeline { status phases { name } } } }"

    async def completed() -> bool:
        job = (await gql.execute(query, n=number))["job"]
        return bool(job["timeline"]["status"] == "COMPLETED")

    await eventually(completed, 10)


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word: a Temporal that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture(params=["hanging", "refusing"])
async def unresponsive(
    runtime: Runtime, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[GraphQLClient, RpcLog]]:
    """The API, reading timelines from a Temporal that hangs or refuses connections, and the
    calls it makes to it."""
    with silent_port() as port:
        if request.param == "refusing":
            port = free_port()
        down = with_timeline(
            runtime, temporal_address=f"127.0.0.1:{port}", temporal_lookup_timeout=TIMEOUT
        )
        assert down.timeline is not None
        async with serving(create_app(runtime=down)) as http:
            with recording_rpcs(await down.timeline.gateway.client()) as rpcs:
                yield GraphQLClient(http), rpcs


async def test_a_page_never_waits_longer_than_the_lookup_timeout(
    runtime: Runtime, tenant: str, unresponsive: tuple[GraphQLClient, RpcLog]
) -> None:
    gql, rpcs = unresponsive
    await add_jobs(runtime, tenant, [unique_number() for _ in range(3)])
    # when a page is read (a Temporal that hangs would hold it without the lookup timeout)
    async with asyncio.timeout(HANG_GUARD):
        page = await gql.execute(PAGE)
    # then the rest of the page answers, every timeline says why it is missing, and Temporal
    # was asked once for all three runs, with no retry
    assert [t["unavailableReason"] for t in timelines(page).values()] == [
        "Temporal unreachable"
    ] * 3
    assert {edge["node"]["status"] for edge in page["jobs"]["edges"]} == {"COMPLETED"}
    assert rpcs.calls == [LIST]
    # and right after, pages do not ask Temporal again
    rpcs.clear()
    again = await gql.execute(PAGE)
    assert rpcs.calls == []
    assert timelines(again) == timelines(page)

"""Fan-out: shared execution per cohort, slow subscribers cut off, nothing left behind."""

import asyncio
import gc
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace

import pytest

from server.app import create_app
from server.runtime import Runtime
from server.web.websocket.cohorts import CohortRegistry
from tests.support.jobs import dispatch_job, given_workflows
from tests.support.live import streams_registered
from tests.support.servers import LiveServer, serve
from tests.support.waiting import eventually
from tests.support.websocket import PROTOCOLS, TRANSPORT_WS, GraphQLWebSocket, graphql_ws

STATUS_WITH_INPUT = """
subscription { jobStatusChanged { sequence job { number input } } }
"""
STATUS = "subscription { jobStatusChanged { sequence status job { number } } }"
SUBSCRIBERS = 40
CYCLES = 1000
# A leak of anything a connection holds would keep hundreds of blocks per cycle.
KEPT_BLOCKS_PER_CYCLE = 5
BLOB = "x" * 100_000


def cohorts_of(server: LiveServer) -> CohortRegistry:
    registry: CohortRegistry = server.app.state.live_cohorts
    return registry


@pytest.fixture
async def small_queue_server(runtime: Runtime) -> AsyncIterator[LiveServer]:
    settings = runtime.settings.model_copy(update={"live_queue_size": 4})
    async with serve(create_app(runtime=replace(runtime, settings=settings))) as server:
        yield server


async def test_subscribers_of_one_operation_share_one_execution(
    live_server: LiveServer, runtime: Runtime, tenant: str, sql_statements: list[str]
) -> None:
    # given many subscribers of the same operation
    await given_workflows(runtime, tenant)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(graphql_ws(live_server.ws_url, TRANSPORT_WS))
            for _ in range(SUBSCRIBERS)
        ]
        for index, client in enumerate(clients):
            await client.subscribe(str(index), STATUS)
        await eventually(lambda: cohorts_of(live_server).stats() == (1, SUBSCRIBERS))
        await streams_registered(runtime)
        sql_statements.clear()

        # when one job changes status
        job = await dispatch_job(runtime, tenant)
        written = len(sql_statements)
        seen = [
            (await client.next(str(index)))["jobStatusChanged"]
            for index, client in enumerate(clients)
        ]
        reads = sql_statements[written:]

    # then every subscriber gets it, from one execution: the reads do not grow with them
    assert {event["job"]["number"] for event in seen} == {job.number}
    assert len(reads) <= 4, reads


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_slow_subscriber_is_cut_off_without_hurting_the_others(
    small_queue_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a fast and a slow subscriber of the same big events
    await given_workflows(runtime, tenant)
    registry = cohorts_of(small_queue_server)
    async with (
        graphql_ws(small_queue_server.ws_url, protocol) as fast,
        graphql_ws(
            small_queue_server.ws_url, protocol, max_queue=1, sock=_tiny_socket(small_queue_server)
        ) as slow,
    ):
        await fast.subscribe("f", STATUS_WITH_INPUT)
        await slow.subscribe("s", STATUS_WITH_INPUT)
        await eventually(lambda: registry.stats() == (1, 2))
        received: list[int] = []
        reader = asyncio.create_task(_collect(fast, "f", received))

        # when jobs keep changing while the slow one does not read
        dispatched: list[int] = []
        while registry.stats() != (1, 1):
            assert len(dispatched) < 500, "the slow subscriber was never cut off"
            dispatched.append((await dispatch_job(runtime, tenant, input={"blob": BLOB})).number)
        for _ in range(3):
            dispatched.append((await dispatch_job(runtime, tenant, input={"blob": BLOB})).number)

        # then the slow one is closed with a reason that says how to resume
        close = await slow.close_frame()
        assert close.code == 1013
        assert "after" in close.reason
        # and the fast one got every event
        await eventually(lambda: len(received) == len(dispatched), 20)
        reader.cancel()
    assert received == dispatched


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_connect_disconnect_cycles_leave_nothing_behind(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a server that has served one subscriber already (imports, caches, pools warm)
    await given_workflows(runtime, tenant)
    await _cycle(live_server, protocol, clean=True)
    await eventually(lambda: cohorts_of(live_server).stats() == (0, 0))
    gc.collect()
    tasks = len(asyncio.all_tasks())
    blocks = sys.getallocatedblocks()

    # when clients subscribe and leave, half of them without closing
    for index in range(CYCLES):
        await _cycle(live_server, protocol, clean=index % 2 == 0)

    # then every subscription, stream, task and buffer is released
    await eventually(lambda: cohorts_of(live_server).stats() == (0, 0))
    await eventually(lambda: runtime.live.watching() == 0)
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks)
    gc.collect()
    kept = sys.getallocatedblocks() - blocks
    assert kept < CYCLES * KEPT_BLOCKS_PER_CYCLE, f"{kept} memory blocks kept after {CYCLES} cycles"


async def _cycle(server: LiveServer, protocol: str, *, clean: bool) -> None:
    async with graphql_ws(server.ws_url, protocol) as client:
        await client.subscribe("c", STATUS)
        await client.subscribe("n", "subscription { jobCounts { all } }")
        await client.next("n")
        if not clean:
            client.socket.transport.abort()


async def _collect(client: GraphQLWebSocket, operation_id: str, into: list[int]) -> None:
    while True:
        data = await client.next(operation_id)
        into.append(data["jobStatusChanged"]["job"]["number"])


def _tiny_socket(server: LiveServer) -> socket.socket:
    """A client socket with a small receive buffer, so an unread stream backs up quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    return sock

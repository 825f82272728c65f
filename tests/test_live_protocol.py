"""The websocket protocols themselves: handshake, keep-alive, timeouts and misuse."""

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.app import create_app
from server.runtime import Runtime
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.live import streams_registered
from tests.support.servers import LiveServer, serve
from tests.support.waiting import eventually
from tests.support.websocket import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, graphql_ws

COUNTS = "subscription { jobCounts { all } }"


@pytest.fixture
async def impatient_server(runtime: Runtime) -> AsyncIterator[LiveServer]:
    """A server with a short connection_init timeout and frequent keep-alives."""
    settings = runtime.settings.model_copy(
        update={"ws_init_timeout_seconds": 0.3, "ws_keepalive_seconds": 0.2}
    )
    async with serve(create_app(runtime=replace(runtime, settings=settings))) as server:
        yield server


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_client_that_never_sends_connection_init_is_closed(
    impatient_server: LiveServer, protocol: str
) -> None:
    async with graphql_ws(impatient_server.ws_url, protocol, init=False) as client:
        close = await client.close_frame()
    assert (close.code, close.reason) == (
        4408,
        "Connection initialisation timeout",
    )


@pytest.mark.parametrize(("protocol", "keepalive"), [(TRANSPORT_WS, "ping"), (LEGACY_WS, "ka")])
async def test_idle_connections_get_keep_alives(
    impatient_server: LiveServer, protocol: str, keepalive: str
) -> None:
    async with graphql_ws(impatient_server.ws_url, protocol, init=False) as client:
        await client.send({"type": "connection_init"})
        kinds = [json.loads(await client.socket.recv())["type"] for _ in range(3)]
    assert kinds == ["connection_ack", keepalive, keepalive]


async def test_subscribing_before_connection_init_is_unauthorized(
    live_server: LiveServer,
) -> None:
    async with graphql_ws(live_server.ws_url, TRANSPORT_WS, init=False) as client:
        await client.subscribe("1", COUNTS)
        close = await client.close_frame()
    assert close.code == 4401


async def test_two_subscriptions_with_one_id_close_the_connection(
    live_server: LiveServer, runtime: Runtime, tenant: str
) -> None:
    await given_workflows(runtime, tenant)
    async with graphql_ws(live_server.ws_url, TRANSPORT_WS) as client:
        await client.subscribe("1", COUNTS)
        await client.subscribe("1", COUNTS)
        close = await client.close_frame()
    assert close.code == 4409


async def test_a_second_connection_init_closes_the_connection(live_server: LiveServer) -> None:
    async with graphql_ws(live_server.ws_url, TRANSPORT_WS) as client:
        await client.send({"type": "connection_init"})
        close = await client.close_frame()
    assert close.code == 4429


async def test_a_client_without_a_graphql_subprotocol_is_turned_away(
    live_server: LiveServer,
) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(live_server.ws_url, subprotocols=["chat"]):  # type: ignore[list-item]
            pass


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_query_over_the_websocket_answers_once_and_completes(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    await given_workflows(runtime, tenant)
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("q", "{ jobCounts { all } }")
        data = await client.next("q")
        done = await client.receive()
    assert data == {"jobCounts": {"all": 0}}
    assert (done["type"], done["id"]) == ("complete", "q")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_stopping_a_subscription_releases_it(
    live_server: LiveServer, runtime: Runtime, protocol: str
) -> None:
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("c", COUNTS)
        await client.next("c")
        await streams_registered(runtime)
        await client.stop("c")
        await eventually(lambda: runtime.live.watching() == 0)
        # the connection itself stays usable
        await client.subscribe("c", COUNTS)
        assert await client.next("c") == {"jobCounts": {"all": 0}}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_each_operation_on_a_connection_reads_fresh_rows(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a connection that already read a job
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    query = "query($n: Int!) { job(number: $n) { status } }"
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("1", query, n=job.number)
        before = await client.next("1")

        # when the job changes and the connection reads it again
        await cancel_job(runtime, tenant, job.number)
        await client.subscribe("2", query, n=job.number)
        after = await client.next("2")

    # then the second read sees the change
    assert before == {"job": {"status": "PENDING"}}
    assert after == {"job": {"status": "CANCELLED"}}

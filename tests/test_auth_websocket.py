"""Websockets authenticate in `connection_init`; a bad token closes the socket."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from server.auth import Role
from server.runtime import Runtime
from tests.support.auth import app_with, token_for
from tests.support.servers import LiveServer, serve
from tests.support.websocket import LEGACY_WS, PROTOCOLS, GraphQLWebSocket, graphql_ws

COUNTS = "subscription { jobCounts { all } }"


@pytest.fixture
async def server(runtime: Runtime) -> AsyncIterator[LiveServer]:
    async with serve(app_with(runtime)) as live:
        yield live


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "jm_" + "x" * 43},
        {"authorization": 42},
        ["Bearer"],
    ],
)
async def test_a_bad_token_closes_the_socket_with_the_auth_code(
    server: LiveServer, protocol: str, payload: Any
) -> None:
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        frames, closed = await _until_closed(ws)

    assert closed.rcvd is not None
    assert closed.rcvd.code == 4403
    expected = ["connection_error"] if protocol == LEGACY_WS else []
    assert [frame["type"] for frame in frames] == expected


async def _until_closed(ws: GraphQLWebSocket) -> tuple[list[dict[str, Any]], ConnectionClosed]:
    frames = []
    while True:
        try:
            frames.append(await ws.receive())
        except ConnectionClosed as closed:
            return frames, closed


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_valid_token_subscribes_in_its_tenant(
    runtime: Runtime, server: LiveServer, protocol: str
) -> None:
    token = await token_for(runtime, Role.VIEWER)
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {token}"})
        await ws.subscribe("1", COUNTS)
        counts = await ws.next("1")

    assert counts == {"jobCounts": {"all": 0}}

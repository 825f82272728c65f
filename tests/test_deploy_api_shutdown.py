"""An API replica shutting down: it stops accepting, closes websockets with 1001 and a hint to
resume with `after`, and lets a request in flight finish within the grace. (SIGTERM itself, and
the hard stop, are exercised on real processes in tests/test_deploy_topology.py.)"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from server.app import create_app
from server.runtime import Runtime
from server.web.serving import GracefulServer
from tests.support.waiting import eventually
from tests.support.websocket import TRANSPORT_WS, graphql_ws

pytestmark = pytest.mark.usefixtures("on_postgresql")
GRACE_SECONDS = 5.0
STATUS = "subscription { jobStatusChanged { sequence status } }"


class InFlight:
    """A request the test holds open: it has started, and ends when the test says so."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    def mount(self, app: FastAPI) -> None:
        async def slow() -> dict[str, str]:
            self.started.set()
            await self.release.wait()
            return {"finished": "yes"}

        app.add_api_route("/in-flight", slow)


@asynccontextmanager
async def graceful(app: FastAPI) -> AsyncIterator[tuple[GracefulServer, int]]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        loop="none",
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=round(GRACE_SECONDS),
    )
    server = GracefulServer(config, app=app, grace_seconds=GRACE_SECONDS)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await eventually(lambda: server.started, 10)
        yield server, listener.getsockname()[1]
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def test_a_replica_shutting_down_closes_websockets_with_1001_and_finishes_requests(
    runtime: Runtime,
) -> None:
    # given a replica with a subscriber and a request in flight
    app = create_app(runtime=runtime)
    in_flight = InFlight()
    in_flight.mount(app)
    async with (
        graceful(app) as (server, port),
        graphql_ws(f"ws://127.0.0.1:{port}/graphql", TRANSPORT_WS) as subscriber,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        await subscriber.subscribe("s", STATUS)
        request = asyncio.create_task(http.get("/in-flight"))
        await in_flight.started.wait()

        # when it is told to stop
        server.should_exit = True

        # then the subscriber is closed with 1001 and told how to resume
        close = await subscriber.close_frame()
        # and the request in flight still gets its answer
        in_flight.release.set()
        response = await request

    assert (close.code, close.reason) == (
        1001,
        "Server shutting down: reconnect and resubscribe with `after` to resume",
    )
    assert (response.status_code, response.json()) == (200, {"finished": "yes"})

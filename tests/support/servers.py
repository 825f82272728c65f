"""A real uvicorn server on 127.0.0.1 and a free port, in the test's event loop.

Tests reach it over real sockets (HTTP and websockets) while still being able to look at the
app's state; `serve` is there for tests that need a server with other settings.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI

from tests.support.waiting import eventually

STARTUP_SECONDS = 10


@dataclass(frozen=True)
class Endpoint:
    """An API listening on 127.0.0.1."""

    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@dataclass(frozen=True)
class LiveServer(Endpoint):
    app: FastAPI


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[LiveServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", ws_per_message_deflate=False, loop="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))

    def started() -> bool:
        if task.done():
            task.result()  # the server failed to start: its error fails the test
        return server.started

    try:
        await eventually(started, STARTUP_SECONDS)
        yield LiveServer(port=port, app=app)
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.fixture
async def live_server(app: FastAPI) -> AsyncIterator[LiveServer]:
    """The test's app served by uvicorn on 127.0.0.1."""
    async with serve(app) as server:
        yield server

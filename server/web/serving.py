"""uvicorn for `jobmonitor serve`, with graceful shutdown.

On SIGTERM: /readyz answers 503 at once; the server stops accepting connections; websockets
are closed with 1001 and a resume hint (clients resubscribe elsewhere with `after`); requests
in flight get what is left of JOBMONITOR_SHUTDOWN_GRACE_SECONDS to finish; the process exits
at most a few seconds after the grace whatever it still waits on (see `server.shutdown`).
"""

import contextlib
import socket
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from server.observability.logs import uvicorn_log_config
from server.settings import Settings
from server.shutdown import arm_hard_stop
from server.web.heap import HeapKeeper
from server.web.readiness import Readiness
from server.web.websocket.close_codes import SHUTTING_DOWN
from server.web.websocket.endpoint import OpenConnections


class SettledServer(uvicorn.Server):
    """uvicorn for a process that serves for long: given a `heap`, once started, what the
    app holds is kept out of the garbage collector's full collections, and so are open
    websockets (`server.web.heap`). Only a server's own process passes one: freezing the
    heap of a process that does other work (a test run) would keep its garbage."""

    def __init__(
        self, config: uvicorn.Config, *, app: FastAPI, heap: HeapKeeper | None = None
    ) -> None:
        super().__init__(config)
        self._app = app
        self._heap = heap

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._heap is None:
            return
        connections: OpenConnections | None = getattr(self._app.state, "live_connections", None)
        if connections is not None:
            connections.keep_heap(self._heap)
        self._heap.started()


class GracefulServer(SettledServer):
    def __init__(
        self,
        config: uvicorn.Config,
        *,
        app: FastAPI,
        grace_seconds: float,
        heap: HeapKeeper | None = None,
    ) -> None:
        super().__init__(config, app=app, heap=heap)
        self._grace = grace_seconds
        self._signalled_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._signalled_at is None:
            self._signalled_at = time.monotonic()
            arm_hard_stop(self._grace)
            readiness: Readiness | None = getattr(self._app.state, "readiness", None)
            if readiness is not None:
                readiness.stopping()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        connections: OpenConnections | None = getattr(self._app.state, "live_connections", None)
        if connections is not None:
            await connections.close_all(SHUTTING_DOWN, within=self._left())
        self.config.timeout_graceful_shutdown = round(self._left())
        await super().shutdown(sockets)

    def _left(self) -> float:
        started = self._signalled_at if self._signalled_at is not None else time.monotonic()
        return max(0.0, self._grace - (time.monotonic() - started))


class EmbeddedServer(SettledServer):
    """uvicorn as one part of a process that handles its own signals (`jobmonitor dev`): the
    process stops it with `should_exit`, and a failure to start (a port taken) is raised as
    `ServerFailed` rather than uvicorn's `sys.exit`, so the rest of the process winds down."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().serve(sockets)
        except SystemExit as exit_:
            raise ServerFailed(self.config.host, self.config.port) from exit_


class ServerFailed(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"the API could not start on {host}:{port} (is the port taken?)")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every server of the API passes to uvicorn (`serve`, `dev`): websocket messages
    capped like request bodies (the app checks them too, for servers started otherwise), and
    no per-message compression: a small compressed frame could inflate far beyond the cap,
    and live updates are small; websockets' Sans-I/O protocol, whose send is a write to the
    socket with no lock or wait per message (it halved the 10 000-subscriber p99 of
    `bench/live_fanout.py --dev`); no proxy headers (uvicorn believes X-Forwarded-For from
    127.0.0.1 by default: the gate reads it from JOBMONITOR_TRUSTED_PROXIES only); logging
    as JOBMONITOR_LOG_FORMAT says."""
    return {
        "ws": "websockets-sansio",
        "proxy_headers": False,
        "ws_max_size": settings.max_body_bytes,
        "ws_per_message_deflate": False,
        "log_config": uvicorn_log_config(settings),
    }


def serve_api(
    app: FastAPI,
    *,
    host: str,
    port: int,
    settings: Settings,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT; on `sockets` already listening when given (workers)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        **uvicorn_options(settings),
        timeout_graceful_shutdown=round(settings.shutdown_grace_seconds),
    )
    server = GracefulServer(
        config, app=app, grace_seconds=settings.shutdown_grace_seconds, heap=HeapKeeper()
    )
    server.run(sockets)

"""The websocket endpoint at /graphql: picks the protocol and serves the connection; the
open connections, so that a server shutting down can close them with a reason."""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial

import strawberry
from fastapi import FastAPI
from starlette.websockets import WebSocket

from resolvers.documents import ParseLimits, document_cache
from resolvers.subscription import SHARING
from server.settings import Settings
from server.web.heap import HeapKeeper

from . import close_codes
from .admission import admit
from .close_codes import CloseReason
from .cohorts import CohortRegistry
from .connection import Admit, Connection, Limits, Tally
from .dialects import choose


class OpenConnections:
    """The websockets being served."""

    def __init__(self) -> None:
        self._open: set[Connection] = set()
        self._none = asyncio.Event()
        self._none.set()
        self._heap: HeapKeeper | None = None

    def keep_heap(self, heap: HeapKeeper) -> None:
        """Tell `heap` each time the open connections change (a server's process only)."""
        self._heap = heap

    def __len__(self) -> int:
        return len(self._open)

    async def serve(self, connection: Connection) -> None:
        self._open.add(connection)
        self._none.clear()
        if self._heap is not None:
            self._heap.opened(len(self._open))
        try:
            await connection.serve()
        finally:
            self._open.discard(connection)
            if self._heap is not None:
                self._heap.closed(len(self._open))
            if not self._open:
                self._none.set()

    async def close_all(self, reason: CloseReason, *, within: float) -> None:
        """Close every connection with `reason`; wait up to `within` seconds for them to end."""
        for connection in list(self._open):
            connection.close(reason)
        with suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._none.wait()


def websocket_endpoint(
    registry: CohortRegistry, connections: OpenConnections, admit: Admit, limits: Limits
) -> Callable[[WebSocket], Awaitable[None]]:
    tally = Tally()

    async def endpoint(websocket: WebSocket) -> None:
        dialect = choose(websocket.scope.get("subprotocols", []))
        if dialect is None:
            refused = close_codes.SUBPROTOCOL_NOT_ACCEPTABLE
            await websocket.close(refused.code, refused.reason)
            return
        connection = Connection(
            websocket, dialect, registry=registry, admit=admit, limits=limits, tally=tally
        )
        await connections.serve(connection)

    return endpoint


def mount_live(app: FastAPI, schema: strawberry.Schema, settings: Settings) -> CohortRegistry:
    """Serve both websocket protocols at /graphql (ahead of the HTTP router's own websocket
    route, which the shared cohorts replace)."""
    registry = CohortRegistry(
        schema,
        SHARING,
        parse=partial(document_cache().parse, limits=ParseLimits.of(settings)),
        timeout=settings.execution_timeout_seconds,
    )
    limits = Limits(
        queue_size=settings.live_queue_size,
        keepalive_seconds=settings.ws_keepalive_seconds,
        init_timeout_seconds=settings.ws_init_timeout_seconds,
        max_message_bytes=settings.max_body_bytes,
        max_operations_per_socket=settings.ws_max_operations_per_socket,
        max_operations_per_owner=settings.ws_max_operations_per_token,
    )
    connections = OpenConnections()
    app.add_api_websocket_route(
        "/graphql", websocket_endpoint(registry, connections, admit, limits)
    )
    app.state.live_cohorts = registry
    app.state.live_connections = connections
    return registry

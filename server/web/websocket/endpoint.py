"""The websocket endpoint at /graphql: picks the protocol and serves the connection."""

from collections.abc import Awaitable, Callable

import strawberry
from fastapi import FastAPI
from starlette.websockets import WebSocket

from resolvers.subscription import SHARING
from server.settings import Settings

from . import close_codes
from .admission import admit
from .cohorts import CohortRegistry
from .connection import Admit, Connection, Limits
from .dialects import choose


def websocket_endpoint(
    registry: CohortRegistry, admit: Admit, limits: Limits
) -> Callable[[WebSocket], Awaitable[None]]:
    async def endpoint(websocket: WebSocket) -> None:
        dialect = choose(websocket.scope.get("subprotocols", []))
        if dialect is None:
            refused = close_codes.SUBPROTOCOL_NOT_ACCEPTABLE
            await websocket.close(refused.code, refused.reason)
            return
        connection = Connection(websocket, dialect, registry=registry, admit=admit, limits=limits)
        await connection.serve()

    return endpoint


def mount_live(app: FastAPI, schema: strawberry.Schema, settings: Settings) -> CohortRegistry:
    """Serve both websocket protocols at /graphql (ahead of the HTTP router's own websocket
    route, which the shared cohorts replace)."""
    registry = CohortRegistry(schema, SHARING)
    limits = Limits(
        queue_size=settings.live_queue_size,
        keepalive_seconds=settings.ws_keepalive_seconds,
        init_timeout_seconds=settings.ws_init_timeout_seconds,
    )
    app.add_api_websocket_route("/graphql", websocket_endpoint(registry, admit, limits))
    app.state.live_cohorts = registry
    return registry

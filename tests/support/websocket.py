"""A small GraphQL-over-websocket client for tests, speaking either protocol."""

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]
RECEIVE_SECONDS = 10


class GraphQLWebSocket:
    def __init__(self, socket: ClientConnection, protocol: str) -> None:
        self.socket = socket
        self.protocol = protocol
        self._results: dict[str, deque[dict[str, Any]]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message that is not a keep-alive."""
        while True:
            async with asyncio.timeout(RECEIVE_SECONDS):
                message: dict[str, Any] = json.loads(await self.socket.recv())
            if message["type"] in ("ka", "ping"):
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                continue
            return message

    async def close_frame(self) -> Close:
        """Read (and drop) messages until the server closes; its close frame."""
        try:
            async with asyncio.timeout(RECEIVE_SECONDS):
                while True:
                    await self.socket.recv()
        except ConnectionClosed as closed:
            if closed.rcvd is None:
                raise AssertionError("the connection ended without a close frame") from closed
            return closed.rcvd

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        await self.send({"type": "connection_init", "payload": payload or {}})
        assert (await self.receive())["type"] == "connection_ack"

    async def subscribe(self, operation_id: str, query: str, **variables: Any) -> None:
        start = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables}
        await self.send({"id": operation_id, "type": start, "payload": payload})

    async def stop(self, operation_id: str) -> None:
        stop = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.send({"id": operation_id, "type": stop})

    async def next(self, operation_id: str) -> dict[str, Any]:
        """The `data` of the next result of `operation_id`; results of other subscriptions
        that arrive first are kept for them, and their ends are skipped."""
        waiting = self._results.setdefault(operation_id, deque())
        while not waiting:
            message = await self.receive()
            if message["type"] == "complete" and message["id"] != operation_id:
                continue
            assert message["type"] in ("next", "data"), message
            self._results.setdefault(message["id"], deque()).append(message["payload"])
        payload = waiting.popleft()
        assert not payload.get("errors"), payload
        data: dict[str, Any] = payload["data"]
        return data


@asynccontextmanager
async def graphql_ws(
    url: str, protocol: str, *, init: bool = True, **options: Any
) -> AsyncIterator[GraphQLWebSocket]:
    async with connect(url, subprotocols=[protocol], compression=None, **options) as socket:  # type: ignore[list-item]
        client = GraphQLWebSocket(socket, protocol)
        if init:
            await client.init()
        yield client

"""One websocket at /graphql, in either protocol.

A frame is sent at once when the socket takes it (see `eager`); only when a send has to wait
does a writer task exist, draining a bounded outbox behind it, so an idle connection costs
no task of its own. A connection whose outbox fills up (its client does not read fast
enough) is cut off with a close reason that tells the client to resume with `after`, instead
of buffering without end or slowing the others.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import close_codes, eager
from .close_codes import CloseReason
from .cohorts import Cohort, CohortRegistry, OperationRequest
from .dialects import LEGACY_WS, Dialect


@dataclass(frozen=True)
class Admission:
    """What `connection_init` established: how to make an execution context (a fresh one per
    operation: its loaders cache rows for that operation only), the sharing scope, and the
    checks each operation passes first."""

    new_context: Callable[[], object]
    scope: Hashable
    owner: Hashable | None
    """Whose operations count together across sockets (the token); None: per socket only."""
    still_admitted: Callable[[], Awaitable[bool]]
    """False once the credentials no longer work (a cached check): the socket closes."""
    throttled: Callable[[], GraphQLError | None]
    """Takes one operation from the rate limit: None, or why the operation is refused."""
    watch: Callable[[Callable[[], None]], Callable[[], None]]
    """Calls back when the credentials are revoked; returns how to stop watching."""


Admit = Callable[[WebSocket, object], Awaitable[Admission | CloseReason]]
_GONE = (WebSocketDisconnect, OSError, RuntimeError)
"""What sending raises once the client went away."""


@dataclass(frozen=True)
class Limits:
    queue_size: int
    keepalive_seconds: float
    init_timeout_seconds: float
    max_message_bytes: int
    """Larger messages close the connection (1009), whatever the server in front allows."""
    max_operations_per_socket: int
    max_operations_per_owner: int


class Tally:
    """Open operations per owner, across the sockets of one app."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}

    def __getitem__(self, owner: Hashable) -> int:
        return self._counts.get(owner, 0)

    def add(self, owner: Hashable) -> None:
        self._counts[owner] = self[owner] + 1

    def remove(self, owner: Hashable) -> None:
        left = self[owner] - 1
        if left > 0:
            self._counts[owner] = left
        else:
            self._counts.pop(owner, None)


class Operation:
    """One subscription of a connection: the cohort's view of a subscriber."""

    __slots__ = ("cohort", "connection", "id", "id_json")

    def __init__(self, connection: "Connection", operation_id: str) -> None:
        self.connection = connection
        self.id = operation_id
        self.id_json = orjson.dumps(operation_id).decode()
        self.cohort: Cohort | None = None

    def send_payload(self, payload: str) -> None:
        self.connection.push(self.connection.dialect.data_frame(self.id_json, payload))

    def send_errors(self, errors: str) -> None:
        self.connection.finished(self)
        self.connection.push(self.connection.dialect.error_frame(self.id_json, errors))

    def send_complete(self) -> None:
        self.connection.finished(self)
        self.connection.push(self.connection.dialect.complete_frame(self.id_json))


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        dialect: Dialect,
        *,
        registry: CohortRegistry,
        admit: Admit,
        limits: Limits,
        tally: Tally,
    ) -> None:
        self._websocket = websocket
        self.dialect = dialect
        self._registry = registry
        self._admit = admit
        self._limits = limits
        self._tally = tally
        self._admission: Admission | None = None
        self._unwatch: Callable[[], None] | None = None
        self._operations: dict[str, Operation] = {}
        self._outbox: deque[str | CloseReason] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._timer: asyncio.TimerHandle | None = None

    async def serve(self) -> None:
        await self._websocket.accept(subprotocol=self.dialect.subprotocol)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._limits.init_timeout_seconds, self._init_timed_out)
        try:
            while True:
                message = await self._websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if not self._closing:
                    raw = message.get("text") or message.get("bytes") or b""
                    if _size(raw) > self._limits.max_message_bytes:
                        self.close(close_codes.TOO_BIG)
                    else:
                        await self._received(raw)
        finally:
            self._release()

    def push(self, frame: str) -> None:
        """Send a frame now when the socket takes it, else queue it behind the frames that
        wait; past the limit the client is too slow and is cut off."""
        if self._closing:
            return
        if self._writer is None:
            self._send_eagerly(frame)
            return
        if len(self._outbox) >= self._limits.queue_size:
            self._release_operations()
            self.close(close_codes.FELL_BEHIND)
            return
        self._outbox.append(frame)

    def close(self, reason: CloseReason, *, after_queued: bool = False) -> None:
        """Close once what is being sent has gone; frames still queued are dropped unless
        `after_queued` (a last word such as graphql-ws's `connection_error`)."""
        if self._closing:
            return
        self._closing = True
        if not after_queued:
            self._outbox.clear()
        self._outbox.append(reason)
        self._wake_writer()

    def finished(self, operation: Operation) -> None:
        if self._operations.get(operation.id) is operation:
            self._forget(operation)

    async def _received(self, raw: str | bytes) -> None:
        try:
            message = orjson.loads(raw)
            kind = message["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.close(close_codes.BAD_MESSAGE)
            return
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == self.dialect.start:
            await self._start(message)
        elif kind == self.dialect.stop:
            self._stop(message.get("id"))
        elif kind == "ping" and self.dialect.answers_pings:
            self.push('{"type":"pong"}')
        elif kind == "connection_terminate" and self.dialect is LEGACY_WS:
            self.close(close_codes.NORMAL)
        elif kind != "pong":
            self.close(close_codes.BAD_MESSAGE)

    async def _init(self, payload: object) -> None:
        if self._admission is not None:
            if self.dialect is not LEGACY_WS:
                self.close(close_codes.TOO_MANY_INITS)
            return
        self._cancel_timer()
        admission = await self._admit(self._websocket, payload)
        if isinstance(admission, CloseReason):
            if self.dialect is LEGACY_WS:
                error = {"type": "connection_error", "payload": {"message": admission.reason}}
                self.push(orjson.dumps(error).decode())
            self.close(admission, after_queued=True)
            return
        self._admission = admission
        self._unwatch = admission.watch(self._revoked)
        self.push('{"type":"connection_ack"}')
        self._keep_alive()

    async def _start(self, message: dict[str, Any]) -> None:
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not isinstance(payload, dict):
            self.close(close_codes.BAD_MESSAGE)
            return
        if self._admission is None:
            self.close(close_codes.UNAUTHORIZED)
            return
        if operation_id in self._operations:
            if self.dialect is not LEGACY_WS:
                self.close(close_codes.duplicate(operation_id))
                return
            self._stop(operation_id)
        request = _request(payload)
        if request is None:
            self.close(close_codes.BAD_MESSAGE)
            return
        if not await self._admission.still_admitted():
            self._revoked()
            return
        operation = Operation(self, operation_id)
        refusal = self._refusal()
        if refusal is not None:
            operation.send_errors(orjson.dumps([refusal.formatted]).decode())
            return
        self._operations[operation_id] = operation
        if self._admission.owner is not None:
            self._tally.add(self._admission.owner)
        try:
            operation.cohort = self._registry.subscribe(
                request,
                new_context=self._admission.new_context,
                scope=self._admission.scope,
                subscriber=operation,
            )
        except GraphQLError as error:
            operation.send_errors(orjson.dumps([error.formatted]).decode())

    def _refusal(self) -> GraphQLError | None:
        """Why one more operation may not start now: the rate limit, or too many open."""
        assert self._admission is not None
        owner = self._admission.owner
        if len(self._operations) >= self._limits.max_operations_per_socket:
            limit = f"{self._limits.max_operations_per_socket} on one connection"
        elif owner is not None and self._tally[owner] >= self._limits.max_operations_per_owner:
            limit = f"{self._limits.max_operations_per_owner} for one token"
        else:
            return self._admission.throttled()
        return GraphQLError(
            f"too many operations open: at most {limit}; complete some first",
            extensions={"code": "TOO_MANY_OPERATIONS"},
        )

    def _stop(self, operation_id: object) -> None:
        if not isinstance(operation_id, str):
            return
        operation = self._operations.get(operation_id)
        if operation is not None:
            self._forget(operation)
            if operation.cohort is not None:
                operation.cohort.leave(operation)

    def _forget(self, operation: Operation) -> None:
        del self._operations[operation.id]
        if self._admission is not None and self._admission.owner is not None:
            self._tally.remove(self._admission.owner)

    def _revoked(self) -> None:
        """The credentials stopped working: nothing more is sent, the socket closes (4403)."""
        self._release_operations()
        self.close(close_codes.FORBIDDEN)

    def _keep_alive(self) -> None:
        self.push(self.dialect.keepalive)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._limits.keepalive_seconds, self._keep_alive)

    def _init_timed_out(self) -> None:
        self._timer = None
        if self._admission is None:
            self.close(close_codes.INIT_TIMEOUT)

    def _send_eagerly(self, frame: str) -> None:
        sending = self._websocket.send_text(frame)
        try:
            waiting = eager.start(sending)
        except _GONE:
            return  # the receive loop sees the disconnect and cleans up
        if waiting is not eager.DONE:
            self._writer = asyncio.create_task(self._write(eager.finish(sending, waiting)))

    def _wake_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def _write(self, sending: Awaitable[None] | None = None) -> None:
        """Finish a send that had to wait, then send what queued up behind it."""
        try:
            if sending is not None:
                await sending
            while self._outbox:
                item = self._outbox.popleft()
                if isinstance(item, CloseReason):
                    await self._websocket.close(item.code, item.reason)
                    return
                await self._websocket.send_text(item)
        except _GONE:
            return  # the receive loop sees the disconnect and cleans up
        finally:
            self._writer = None

    def _release_operations(self) -> None:
        operations = list(self._operations.values())
        for operation in operations:
            self._forget(operation)
        for operation in operations:
            if operation.cohort is not None:
                operation.cohort.leave(operation)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _release(self) -> None:
        """Everything the connection held: its subscriptions, its timer, its writer."""
        self._closing = True
        self._cancel_timer()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        self._release_operations()
        self._outbox.clear()
        if self._writer is not None:
            self._writer.cancel()


def _size(raw: str | bytes) -> int:
    """In bytes, as the server in front counts."""
    if isinstance(raw, bytes) or raw.isascii():
        return len(raw)
    return len(raw.encode())


def _request(payload: dict[str, Any]) -> OperationRequest | None:
    query, variables = payload.get("query"), payload.get("variables") or {}
    operation_name = payload.get("operationName")
    if not isinstance(query, str) or not isinstance(variables, dict):
        return None
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    return OperationRequest(query=query, variables=variables, operation_name=operation_name)

"""Identical queries over HTTP that are in flight at the same moment share one execution.

Many open Jobs pages poll the same query: while one execution of it runs, the identical
requests that arrive wait for the next execution, which starts when the running one ends and
answers all of them at once. A request never takes the answer of an execution that started
before it arrived, so no answer can predate a change committed before the request was sent;
at most two executions of one query run at once, however many clients ask.

Identical means the same tenant and role (the scope websocket cohorts share by), the same
HTTP method, document, operation name and variables. Only queries share (no mutation, no
@defer or @stream, no persisted-query extensions); an answer with errors is not shared (masked
errors name the request that met them): the others run the operation themselves.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast

from resolvers.documents import ParseLimits, document_cache
from server.settings import Settings

T = TypeVar("T")


class _Flight(Generic[T]):
    """The running execution of one key and the one that follows it."""

    def __init__(self) -> None:
        self.running: asyncio.Task[T] | None = None
        self.following: asyncio.Task[T] | None = None


class SharedReads(Generic[T]):
    """Executions shared by key; see the module's docstring."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(
        self, key: Hashable, execute: Callable[[], Awaitable[T]], *, shared: Callable[[T], bool]
    ) -> T:
        """`execute()`'s answer, or that of an identical execution started after this call;
        an answer `shared` refuses (one with errors) makes this caller execute by itself."""
        task, own = self._join(key, execute)
        result = await asyncio.shield(task)
        if own or shared(result):
            return result
        return await execute()

    def _join(
        self, key: Hashable, execute: Callable[[], Awaitable[T]]
    ) -> tuple[asyncio.Task[T], bool]:
        flight = self._flights.setdefault(key, _Flight())
        if flight.running is None:
            flight.running = asyncio.ensure_future(execute())
            flight.running.add_done_callback(lambda task: self._advance(key, task))
            return flight.running, True
        if flight.following is None:
            flight.following = asyncio.ensure_future(_after(flight.running, execute))
            return flight.following, True
        return flight.following, False

    def _advance(self, key: Hashable, ended: "asyncio.Task[T]") -> None:
        """The running execution ended: the following one (if any) is now the running one.
        Its failure was raised to whoever still waited on it (marked as seen here, for the
        case where all of them were cancelled first)."""
        if not ended.cancelled():
            ended.exception()
        flight = self._flights[key]
        flight.running, flight.following = flight.following, None
        if flight.running is None:
            del self._flights[key]
        else:
            flight.running.add_done_callback(lambda task: self._advance(key, task))


async def _after(running: asyncio.Task[Any], execute: Callable[[], Awaitable[T]]) -> T:
    await asyncio.wait([running])
    return await execute()


def share_key(
    *,
    scope: Hashable,
    method: str,
    query: str | None,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    extensions: dict[str, Any] | None,
    settings: Settings,
) -> Hashable | None:
    """What identical requests share, or None when this one must run by itself."""
    if (
        not settings.share_identical_reads
        or query is None
        or extensions
        or "@defer" in query
        or "@stream" in query
    ):
        return None
    try:
        document = document_cache().parse(query, ParseLimits.of(settings))
        encoded = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except (GraphQLError, TypeError):
        return None  # the request's own execution reports what is wrong
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    return (scope, method, query, operation_name, encoded)

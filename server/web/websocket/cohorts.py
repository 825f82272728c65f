"""Cohorts: subscribers that send the same operation with the same variables in the same scope
(tenant and role) share one execution, and one serialised payload per event.

The way Hasura multiplexes live queries: per event the operation runs once per cohort and
its result is serialised once; each subscriber only gets its own id spliced into the frame.
A cohort ends when its last subscriber leaves or its stream ends.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import orjson
import strawberry
from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from strawberry.types import ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.execution import PreExecutionError

from resolvers.limits import timeout_error
from server.live.streams import Sharing

from .sharing import sharing_of

logger = logging.getLogger(__name__)
Parse = Callable[[str], DocumentNode]
"""Parses a document under the limits, raising GraphQLError when it is refused."""


class Subscriber(Protocol):
    """One subscription of one connection."""

    def send_payload(self, payload: str) -> None:
        """A result, serialised as the JSON `payload` of a `next` frame."""

    def send_errors(self, errors: str) -> None:
        """The operation failed before it ran; `errors` is a serialised list."""

    def send_complete(self) -> None:
        """The stream ended."""


@dataclass(frozen=True)
class OperationRequest:
    query: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    operation_name: str | None = None


class Cohort:
    def __init__(self, registry: "CohortRegistry", key: Hashable | None, sharing: Sharing) -> None:
        self._registry = registry
        self.key = key
        self._keeps_latest = sharing is Sharing.LATEST
        self._latest: str | None = None
        self._subscribers: dict[Subscriber, None] = {}
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._subscribers)

    def join(self, subscriber: Subscriber) -> None:
        self._subscribers[subscriber] = None
        if self._latest is not None:
            subscriber.send_payload(self._latest)

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.pop(subscriber, None)
        if not self._subscribers:
            self.stop()

    def stop(self) -> None:
        # Forgotten at once: a task cancelled before it first runs never reaches its `finally`.
        self._registry.forget(self)
        if self._task is not None:
            self._task.cancel()

    def start(self, stream: Callable[[], Awaitable[AsyncIterator[Any]]]) -> None:
        self._task = asyncio.create_task(self._run(stream), name="live-cohort")

    async def _run(self, stream: Callable[[], Awaitable[AsyncIterator[Any]]]) -> None:
        try:
            results = await stream()
            async with aclosing(results):  # type: ignore[type-var]
                async for result in results:
                    if isinstance(result, PreExecutionError):
                        self._fail(result.errors or ())
                        return
                    self._deliver(_dumps(_body(result)))
            for subscriber in list(self._subscribers):
                subscriber.send_complete()
        except GraphQLError as error:
            # Refused by a schema extension before it ran (registered operations only).
            self._fail([error])
        except Exception:
            # Every subscriber gets an answer: a stream that breaks must not leave ids behind.
            logger.exception("live cohort failed")
            self._fail([GraphQLError("the operation failed", extensions={"code": "INTERNAL"})])
        finally:
            self._registry.forget(self)

    def _fail(self, errors: Sequence[GraphQLError]) -> None:
        payload = _dumps([error.formatted for error in errors])
        for subscriber in list(self._subscribers):
            subscriber.send_errors(payload)

    def _deliver(self, payload: str) -> None:
        if self._keeps_latest:
            self._latest = payload
        for subscriber in list(self._subscribers):
            subscriber.send_payload(payload)


class CohortRegistry:
    """The cohorts of one app, keyed by (scope, operation, variables). Documents are parsed
    (under the limits) before anything else; a query or mutation runs once, within `timeout`
    seconds."""

    def __init__(
        self,
        schema: strawberry.Schema,
        policy: Mapping[str, Sharing],
        *,
        parse: Parse,
        timeout: float,
    ) -> None:
        """Raises ValueError unless `policy` names every subscription of the schema, and
        nothing else: a subscription left out would silently never be shared."""
        _check_policy(schema, policy)
        self._schema = schema
        self._policy = policy
        self._parse = parse
        self._timeout = timeout
        self._cohorts: dict[Hashable, Cohort] = {}
        self._running: set[Cohort] = set()

    def stats(self) -> tuple[int, int]:
        """(running cohorts, their subscribers): for tests and metrics."""
        return len(self._running), sum(len(cohort) for cohort in self._running)

    def subscribe(
        self,
        request: OperationRequest,
        *,
        new_context: Callable[[], object],
        scope: Hashable,
        subscriber: Subscriber,
    ) -> Cohort:
        """Join the cohort of this operation, starting one when there is none; a document
        that does not parse within the limits raises GraphQLError and starts nothing."""
        document = self._parse(request.query)
        sharing = sharing_of(self._policy, document, request.operation_name, request.variables)
        key = None if sharing is Sharing.NEVER else _key(request, scope)
        cohort = self._cohorts.get(key) if key is not None else None
        if cohort is None:
            cohort = Cohort(self, key, sharing)
            if key is not None:
                self._cohorts[key] = cohort
            self._running.add(cohort)
            cohort.join(subscriber)
            results = self._once if _runs_once(document, request) else self._results
            cohort.start(partial(results, request, new_context()))
        else:
            cohort.join(subscriber)
        return cohort

    def forget(self, cohort: Cohort) -> None:
        self._running.discard(cohort)
        if cohort.key is not None and self._cohorts.get(cohort.key) is cohort:
            del self._cohorts[cohort.key]

    def _results(self, request: OperationRequest, context: object) -> Awaitable[AsyncIterator[Any]]:
        return self._schema.stream(
            request.query,
            variable_values=dict(request.variables),
            context_value=context,
            operation_name=request.operation_name,
        )

    async def _once(self, request: OperationRequest, context: object) -> AsyncIterator[Any]:
        """A query or mutation: its one result, or TIMEOUT as over HTTP (its transaction
        rolls back)."""
        try:
            async with asyncio.timeout(self._timeout):
                results = await self._results(request, context)
                async with aclosing(results):  # type: ignore[type-var]
                    collected = [result async for result in results]
        except TimeoutError:
            collected = [ExecutionResult(data=None, errors=[timeout_error(self._timeout)])]
        return _replay(collected)


async def _replay(results: list[Any]) -> AsyncIterator[Any]:
    for result in results:
        yield result


def _runs_once(document: DocumentNode, request: OperationRequest) -> bool:
    operation = get_operation_ast(document, request.operation_name)
    return operation is not None and operation.operation is not OperationType.SUBSCRIPTION


def _check_policy(schema: strawberry.Schema, policy: Mapping[str, Sharing]) -> None:
    root = schema.get_type_by_name("Subscription")
    fields = root.fields if isinstance(root, StrawberryObjectDefinition) else []
    names = {schema.config.name_converter.get_graphql_name(field) for field in fields}
    missing, unknown = sorted(names - policy.keys()), sorted(policy.keys() - names)
    if missing or unknown:
        raise ValueError(
            f"the sharing policy must name every subscription: missing {missing}, "
            f"not in the schema {unknown}"
        )


def _key(request: OperationRequest, scope: Hashable) -> Hashable:
    variables = orjson.dumps(request.variables, option=orjson.OPT_SORT_KEYS)
    return (scope, request.query, request.operation_name, variables)


def _body(result: ExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return body


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()

"""Persisted operations as clients send them: automatic persisted queries (Apollo's
`extensions.persistedQuery.sha256Hash`, with or without the document) and, in registered
mode, nothing but the operations registered with `jobmonitor operations register`."""

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from resolvers.context import Context
from server.operations import OperationStore, sha256_of
from server.settings import OperationsMode

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
INVALID = "PERSISTED_QUERY_INVALID"
NOT_REGISTERED = "OPERATION_NOT_REGISTERED"


class PersistedOperations(SchemaExtension):
    """Runs first: finds the document of an operation sent by id, remembers one sent with its
    id, and in registered mode refuses any operation that was not registered."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            await _admit(
                self.execution_context,
                context.operations,
                context.settings.operations,
            )
        yield


async def _admit(execution: ExecutionContext, store: OperationStore, mode: OperationsMode) -> None:
    registered_only = mode is OperationsMode.REGISTERED
    operation_id = _persisted_id(execution)
    query = execution.query
    if operation_id is None:
        if registered_only and query is not None:
            known = await store.find(sha256_of(query))
            if known is None or not known.registered:
                raise _not_registered()
        return
    if query is None:
        known = await store.find(operation_id)
        if known is None or (registered_only and not known.registered):
            raise GraphQLError("PersistedQueryNotFound", extensions={"code": NOT_FOUND})
        execution.query = known.document
        return
    if sha256_of(query) != operation_id:
        raise GraphQLError("provided sha does not match query", extensions={"code": HASH_MISMATCH})
    known = await store.find(operation_id)
    if registered_only:
        if known is None or not known.registered:
            raise _not_registered()
    elif known is None:
        await store.remember(operation_id, query)


def _persisted_id(execution: ExecutionContext) -> str | None:
    persisted = (execution.operation_extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    operation_id = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(operation_id, str) or not operation_id:
        raise GraphQLError(
            "extensions.persistedQuery needs a sha256Hash string", extensions={"code": INVALID}
        )
    return operation_id


def _not_registered() -> GraphQLError:
    return GraphQLError(
        "This server runs registered operations only (JOBMONITOR_OPERATIONS=registered) and this "
        "operation is not one of them: register it with `jobmonitor operations register FILE`.",
        extensions={"code": NOT_REGISTERED},
    )

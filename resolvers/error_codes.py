"""Domain errors become GraphQL errors in one place, with a machine-readable code."""

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult

from server.domain.errors import DomainError


class DomainErrorCodes(SchemaExtension):
    """Tags errors raised from a DomainError with `extensions.code` (and `field`)."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        # With @defer, the first part (later parts: resolvers.deferred).
        first = getattr(result, "initial_result", result)
        for error in getattr(first, "errors", None) or ():
            tag_domain_code(error)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result of a subscription (or of an operation over a websocket)."""
        for error in getattr(result, "errors", None) or ():
            tag_domain_code(error)
        yield


def tag_domain_code(error: GraphQLError) -> None:
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = dict(error.extensions or {})
        extensions["code"] = original.code.value
        if original.field is not None:
            extensions["field"] = original.field
        error.extensions = extensions

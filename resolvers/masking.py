"""Unexpected errors reach clients as a request id only; the full error goes to the log."""

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.relay import GlobalIDValueError

from server.domain.errors import DomainError

from .limits import operation_settings

logger = logging.getLogger("jobmonitor.errors")


def is_unexpected(error: GraphQLError) -> bool:
    """Errors the client caused (syntax, validation, limits, domain errors, a global id that
    names no type) stay readable; anything raised from inside the server is masked."""
    original = error.original_error
    return original is not None and not isinstance(
        original, DomainError | GraphQLError | GlobalIDValueError
    )


class RequestIdMasking(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def on_operation(self) -> Iterator[None]:
        settings = operation_settings(self)
        if settings is not None and not settings.mask_errors:
            yield
            return
        yield from super().on_operation()

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return masked(error, getattr(self.execution_context.context, "request_id", ""))


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client sees it: the request id to quote; in full in the log."""
    request_id = request_id or "-"
    logger.error(
        "request %s: %s at %s",
        request_id,
        error.message,
        error.path,
        exc_info=error.original_error,
    )
    return GraphQLError(
        message=f"Unexpected error; quote request id {request_id} when reporting it.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )

"""The later parts of an answer with @defer. Strawberry hands them to the HTTP transport without
the schema extensions' hooks, so their errors get the domain error codes and the masking of
unexpected errors here, as the first part's get them from `DomainErrorCodes` and
`RequestIdMasking`."""

from collections.abc import AsyncGenerator
from contextlib import aclosing

from graphql import GraphQLError
from graphql.execution import SubsequentIncrementalExecutionResult

from .context import Context
from .error_codes import tag_domain_code
from .masking import is_unexpected, masked

Parts = AsyncGenerator[SubsequentIncrementalExecutionResult, None]


async def screened_parts(parts: Parts, context: Context) -> Parts:
    async with aclosing(parts):
        async for part in parts:
            for piece in (*(part.incremental or ()), *(part.completed or ())):
                if piece.errors:
                    piece.errors = [_screened(error, context) for error in piece.errors]
            yield part


def _screened(error: GraphQLError, context: Context) -> GraphQLError:
    tag_domain_code(error)
    if context.settings.mask_errors and is_unexpected(error):
        return masked(error, context.request_id)
    return error

"""Schema extensions that bound what one document may ask for.

The schema is built once per process, so the limits are read per operation from the
settings of the process serving it. In-process callers that pass no `Context` get none.
"""

from collections.abc import Iterator
from functools import cache

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from resolvers.context import Context
from server.settings import Settings


def operation_settings(extension: SchemaExtension) -> Settings | None:
    context = extension.execution_context.context
    return context.settings if isinstance(context, Context) else None


def timeout_error(seconds: float) -> GraphQLError:
    """What a query or mutation that ran longer than `EXECUTION_TIMEOUT_SECONDS` answers."""
    return GraphQLError(
        f"the operation took longer than {seconds:g} s and was stopped",
        extensions={"code": "TIMEOUT"},
    )


class DocumentLimits(AddValidationRules):
    """Depth and alias limits (Strawberry's limiters) and no introspection when it is switched
    off. (The size and token limits apply when the document is parsed: `resolvers.documents`.)"""

    def __init__(self) -> None:
        super().__init__([])

    def on_operation(self) -> Iterator[None]:
        settings = operation_settings(self)
        if settings is not None:
            self.validation_rules = list(
                _rules(settings.max_query_depth, settings.max_aliases, settings.introspection)
            )
        yield from super().on_operation()


@cache
def _rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """One set of rule classes per distinct limits: the limiters make a new rule class each
    time they are built, and the validation cache is keyed by the rule classes."""
    limiters: list[AddValidationRules] = [
        QueryDepthLimiter(max_depth=max_depth),
        MaxAliasesLimiter(max_alias_count=max_aliases),
    ]
    if not introspection:
        limiters.append(DisableIntrospection())
    return tuple(rule for limiter in limiters for rule in limiter.validation_rules)

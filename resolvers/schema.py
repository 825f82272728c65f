"""The schema: Query, Mutation and Subscription roots with the extensions every request uses."""

from functools import cache

import strawberry
from strawberry.extensions import ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from resolvers.cost import QueryCost
from resolvers.deletion_mutation import DeletionMutation
from resolvers.documents import LimitedParsing
from resolvers.error_codes import DomainErrorCodes
from resolvers.execution import PlannedExecutionContext
from resolvers.limits import DocumentLimits
from resolvers.masking import RequestIdMasking
from resolvers.mutation import Mutation
from resolvers.persisted import PersistedOperations
from resolvers.query import Query
from resolvers.schedule_mutations import ScheduleMutation
from resolvers.schedule_query import ScheduleQuery
from resolvers.stats_query import StatsQuery
from resolvers.subscription import Subscription


@cache
def build_schema() -> strawberry.Schema:
    """The schema, built once per process (field extensions such as relay's node() bind to
    their field when a schema is built, so the same classes cannot build two schemas)."""
    return strawberry.Schema(
        query=merge_types("Query", (Query, ScheduleQuery, StatsQuery)),
        mutation=merge_types("Mutation", (Mutation, ScheduleMutation, DeletionMutation)),
        subscription=Subscription,
        # @defer (and @stream): slow fields such as a job's timeline come in later parts of a
        # multipart/mixed answer, after the rest of the page.
        config=StrawberryConfig(enable_experimental_incremental_execution=True),
        execution_context_class=PlannedExecutionContext,
        extensions=[
            PersistedOperations,
            DocumentLimits,
            QueryCost,
            LimitedParsing,
            lambda: ValidationCache(maxsize=256),
            DomainErrorCodes,
            RequestIdMasking,
        ],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"

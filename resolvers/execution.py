"""Execution with plain leaf fields read straight from their object.

Most fields of a page (a job's number, status, name...) are plain attributes of an object
built once (`Job.build`) whose value is a scalar or an enum. graphql-core spends on each the
same machinery as on a resolver that reads the database: a resolve-info object, the
resolver call, two awaitable checks and the recursive completion of the value. For those
fields the value here is the attribute, coerced by the field's type as graphql-core's
completion does it; anything else (a resolver, arguments, a null where the type allows none,
a value the type refuses, middleware) goes through graphql-core's own path, so answers and
errors are the same (tests/test_planned_execution.py holds them to it).
"""

from functools import cached_property
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    UndefinedType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField


class _Leaf(NamedTuple):
    """How a plain leaf field is read: the attribute, its type, whether null is an error."""

    attribute: str
    type: GraphQLLeafType
    non_null: bool


class PlannedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain leaf fields read without a resolver."""

    _leaves: dict[tuple[GraphQLObjectType, str], _Leaf | None] = {}  # noqa: RUF012 - per type
    """What each (object type, field name) is, decided once per process (types are built once
    per schema, so the key names one field of one schema)."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        node = field_details_list[0].node
        leaf = self._leaf(parent_type, node.name.value)
        if leaf is None or node.arguments or self._has_middleware:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        value = getattr(source, leaf.attribute, Undefined)
        if value is None and not leaf.non_null:
            return None
        if value is not None and value is not Undefined and not isinstance(value, Exception):
            try:
                coerced = leaf.type.coerce_output_value(value)
            except Exception:  # graphql-core's path below reports it
                coerced = None
            if coerced is not None and coerced is not Undefined:
                return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    @cached_property
    def _has_middleware(self) -> bool:
        """Whether an extension wraps resolvers (Strawberry always passes a manager, most
        often empty); one answer per execution."""
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def _leaf(self, parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
        key = (parent_type, name)
        if key not in self._leaves:
            self._leaves[key] = _plain_leaf(parent_type, name)
        return self._leaves[key]


def _plain_leaf(parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
    """The field as a plain leaf, or None: it has a resolver, arguments, exception handlers
    or extensions (then Strawberry's resolver is not its basic one), or an object type."""
    field = parent_type.fields.get(name)
    if field is None or field.args:
        return None
    definition = field.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if getattr(field.resolve, "__name__", None) != "_get_basic_result":
        return None
    if definition.default_resolver is not getattr:
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not is_leaf_type(named):
        return None
    return _Leaf(definition.python_name, named, non_null)

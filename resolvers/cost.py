"""The cost of an operation, estimated before it runs, and a limit on it.

Every field counts once for each object its parent may return; a paginated field (one that
takes `first`/`last`) multiplies what is below it by the page it asks for, or by its default
page when it names none. So `jobs(first: 100) { edges { node { workflow { jobs(first: 100) {
edges { node { logs(first: 1000) { ... } } } } } } } }` costs over 10 million and is refused
before a row is read, while a page of 100 jobs with thirty fields costs about 3 000.

Written here, against the schema, rather than taken from a library: Strawberry's
`QueryDepthLimiter` counts depth only, and the cost analysers for graphql-core need every
field annotated with a cost; this needs only the page arguments the schema already has.
Variables are known here (the estimate runs when the operation is about to execute, after
validation), so `first: $n` counts as what `$n` is.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from resolvers.limits import operation_settings
from resolvers.types.logs import LOG_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
DEFAULT_PAGES = {"logs": LOG_PAGE_SIZE}
"""Paginated fields whose default page is not `PAGE_SIZE`."""


@dataclass(frozen=True)
class PageSizes:
    default: int
    """The page of a paginated field that names no `first`/`last`."""
    by_field: Mapping[str, int]
    """Fields whose default page differs (by field name)."""


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any],
    pages: PageSizes,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return _Estimator(schema, fragments, variables, pages).cost(operation.selection_set, root)


class _Estimator:
    """Cost is linear in how many times a selection is asked for, so each selection set is
    costed once per object and multiplied by its parent's page; a fragment is costed once
    however often it is spread (nested spreads cannot blow up the estimate itself)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        pages: PageSizes,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = dict(variables)
        self._pages = pages
        self._fragment_costs: dict[str, int] = {}
        self._costing: set[str] = set()

    def cost(self, selection_set: SelectionSetNode, parent: Any) -> int:
        """What one object of type `parent` costs with this selection."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(selection.selection_set, self._type_of(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value)
        return total

    def _field_cost(self, field: FieldNode, parent: Any) -> int:
        definition = getattr(parent, "fields", {}).get(field.name.value)
        if field.selection_set is None or definition is None:
            return 1
        child = get_named_type(definition.type)
        return 1 + self._page(field, definition.args) * self.cost(field.selection_set, child)

    def _fragment_cost(self, name: str) -> int:
        fragment = self._fragments.get(name)
        if fragment is None or name in self._costing:
            return 0  # validation refuses unknown and cyclic fragments before this runs
        if name not in self._fragment_costs:
            self._costing.add(name)
            owner = self._schema.get_type(fragment.type_condition.name.value)
            self._fragment_costs[name] = self.cost(fragment.selection_set, owner)
            self._costing.discard(name)
        return self._fragment_costs[name]

    def _type_of(self, fragment: InlineFragmentNode, parent: Any) -> Any:
        condition = fragment.type_condition
        return parent if condition is None else self._schema.get_type(condition.name.value)

    def _page(self, field: FieldNode, arguments: Mapping[str, Any]) -> int:
        """The page a paginated field asks for (the largest of `first` and `last`), its
        default page when it names none; 1 for any other field."""
        if not any(name in arguments for name in PAGE_ARGUMENTS):
            return 1
        asked = [
            value_from_ast_untyped(argument.value, self._variables)
            for argument in field.arguments or ()
            if argument.name.value in PAGE_ARGUMENTS
        ]
        sizes = [size for size in asked if isinstance(size, int)]
        if not sizes:
            return self._pages.by_field.get(field.name.value, self._pages.default)
        return max(0, *sizes)


class QueryCost(SchemaExtension):
    """Refuses an operation whose estimated cost is over `MAX_QUERY_COST` before it runs."""

    def on_execute(self) -> Iterator[None]:
        settings = operation_settings(self)
        context = self.execution_context
        if settings is not None and context.graphql_document is not None:
            cost = estimate_cost(
                context.schema._schema,
                context.graphql_document,
                operation_name=context.operation_name,
                variables=context.variables or {},
                pages=PageSizes(default=settings.page_size, by_field=DEFAULT_PAGES),
            )
            if cost > settings.max_query_cost:
                raise GraphQLError(
                    f"this operation may cost about {cost}, over the limit of "
                    f"{settings.max_query_cost}: ask for smaller pages or nest fewer lists",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost},
                )
        yield

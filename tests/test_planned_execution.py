"""The schema's execution (plain leaf fields read without a resolver, resolvers/execution.py)
answers byte for byte what graphql-core's own execution answers, data and errors, on every
query document of the test suite, over seeded jobs of every kind."""

import ast
from datetime import UTC, datetime
from inspect import isawaitable
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import (
    DocumentNode,
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    experimental_execute_incrementally,
    parse,
)
from graphql.error import GraphQLSyntaxError
from strawberry.relay import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from dataloaders import rows as row_loaders
from resolvers.execution import PlannedExecutionContext
from resolvers.schema import build_schema
from resolvers.types import jobs as job_types
from resolvers.types import timeline
from server.runtime import Runtime
from server.seed import seed_database
from server.web.context import trusted_context

TESTS = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 1, tzinfo=UTC)
PAGE = "{ jobs(first: 50) { edges { node { number name status ticketKey canCancel } } } }"


class _Frozen(datetime):
    """Both executions must see the same clock (a running job's duration is now - start)."""

    @classmethod
    def now(cls, tz: Any = None) -> "_Frozen":
        return cls.fromtimestamp(NOW.timestamp(), tz)


def _documents() -> dict[str, tuple[DocumentNode, list[OperationDefinitionNode]]]:
    """Every string of the suite that parses as GraphQL holding only queries, by text."""
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if "{" not in node.value:
                continue
            try:
                document = parse(node.value)
            except GraphQLSyntaxError:
                continue
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if operations and all(o.operation is OperationType.QUERY for o in operations):
                found[node.value] = (document, operations)
    return found


def _variables(operation: OperationDefinitionNode, number: int) -> dict[str, Any]:
    """Values for the required variables: the detailed job's number or global id."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if not isinstance(definition.type, NonNullTypeNode):
            continue
        named = getattr(definition.type.type, "name", None)
        kind = named.value if named is not None else ""
        values[definition.variable.name.value] = (
            to_base64("Job", number) if kind == "ID" else number
        )
    return values


async def _run(
    runtime: Runtime,
    tenant: str,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    number: int,
    executor: type[StrawberryGraphQLCoreExecutionContext],
) -> bytes:
    result = experimental_execute_incrementally(
        build_schema()._schema,
        document,
        context_value=trusted_context(runtime, tenant),
        variable_values=_variables(operation, number),
        operation_name=operation.name.value if operation.name else None,
        executor_class=executor,
    )
    if isawaitable(result):
        result = await result
    if isinstance(result, ExperimentalIncrementalExecutionResults):
        later = [part.formatted async for part in result.subsequent_results]
        return orjson.dumps([result.initial_result.formatted, *later])
    assert isinstance(result, ExecutionResult)
    return orjson.dumps(result.formatted)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (job_types, timeline, row_loaders):
        monkeypatch.setattr(module, "datetime", _Frozen)


@pytest.mark.usefixtures("frozen_clock")
async def test_every_query_of_the_suite_answers_the_same_json_as_graphql_core(
    runtime: Runtime, tenant: str
) -> None:
    # given jobs of every status, with steps, attempts, events and logs
    await seed_database(runtime.session_factory, tenant=tenant, jobs=60, seed=5, now=NOW)
    documents = _documents()
    page_document, (page_operation,) = documents[PAGE]
    page = await _run(
        runtime, tenant, page_document, page_operation, 0, StrawberryGraphQLCoreExecutionContext
    )
    number = max(edge["node"]["number"] for edge in orjson.loads(page)["data"]["jobs"]["edges"])

    # when each query is executed by graphql-core's own execution and by the schema's
    differing = []
    for text, (document, operations) in documents.items():
        for operation in operations:
            expected = await _run(
                runtime, tenant, document, operation, number, StrawberryGraphQLCoreExecutionContext
            )
            answered = await _run(
                runtime, tenant, document, operation, number, PlannedExecutionContext
            )
            if answered != expected:
                differing.append((text, expected[:300], answered[:300]))

    # then every answer is the same, byte for byte
    assert len(documents) > 50
    assert differing == []

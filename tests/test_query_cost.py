"""Operations whose nested pages multiply past the cost limit are refused before they run, and
the log pages of many jobs are read together."""

from typing import Any

import pytest

from server.runtime import Runtime
from tests.support.factories import add_details, build_world
from tests.support.graphql import GraphQLClient
from tests.support.servers import LiveServer
from tests.support.websocket import TRANSPORT_WS, graphql_ws

NESTED = """
query Nested($jobs: Int, $logs: Int) {
  jobs(first: $jobs) { edges { node { workflow {
    jobs(first: 100) { edges { node { logs(first: $logs) { edges { node { message } } } } } }
  } } } }
}
"""
THREE_ALIASES = (
    "{ "
    + " ".join(
        f"a{n}: jobs(first: 100) {{ edges {{ node {{ workflow {{ jobs(first: 100) {{ edges {{ "
        "node { logs(first: 1000) { edges { node { message } } } } } } } } } }"
        for n in range(3)
    )
    + " }"
)
PAGE = """
{ jobs(first: 100) { totalCount edges { node {
  id number name status ticketKey ticketUrl hint stepCount durationSeconds canCancel canResend
  createdAt startedAt completedAt currentStep error
  workflow { slug displayName } agent { name status }
  steps { name status attempt } events { sequence toStatus }
  logs(first: 20) { edges { node { sequence stream message } } }
} } } }
"""
LOGS_OF_A_PAGE = """
{ jobs(first: 20) { edges { node { number logs(first: 3) { edges { node { sequence } } } } } } }
"""


def cost_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
    return error  # type: ignore[no-any-return]


async def test_nested_pages_over_the_cost_limit_are_refused_before_anything_is_read(
    gql: GraphQLClient, sql_statements: list[str]
) -> None:
    error = cost_error(await gql.raw(THREE_ALIASES))

    assert error["extensions"]["cost"] > 30_000_000
    assert "over the limit of 50000" in error["message"]
    assert sql_statements == []


@pytest.mark.parametrize(("jobs", "logs", "refused"), [(100, 1000, True), (2, 5, False)])
async def test_the_cost_counts_pages_asked_for_in_variables(
    gql: GraphQLClient, jobs: int, logs: int, refused: bool
) -> None:
    body = await gql.raw(NESTED, jobs=jobs, logs=logs)

    if refused:
        cost_error(body)
    else:
        assert body == {"data": {"jobs": {"edges": []}}}


async def test_a_full_page_with_its_details_is_within_the_limit(gql: GraphQLClient) -> None:
    body = await gql.raw(PAGE)

    assert "errors" not in body


async def test_a_costly_operation_over_a_websocket_is_refused(live_server: LiveServer) -> None:
    async with graphql_ws(live_server.ws_url, TRANSPORT_WS) as ws:
        await ws.subscribe("1", THREE_ALIASES)
        refused = await ws.receive()

    assert refused["id"] == "1"
    assert refused["type"] == "error"
    cost_error({"data": None, "errors": refused["payload"]})


async def test_the_logs_of_a_page_of_jobs_are_read_in_one_statement(
    runtime: Runtime, tenant: str, gql: GraphQLClient, sql_statements: list[str]
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{} for _ in range(6)])
    for job in world.jobs:
        await add_details(runtime.session_factory, job, steps=0, logs=5)
    sql_statements.clear()

    data = await gql.execute(LOGS_OF_A_PAGE)

    pages = {edge["node"]["number"]: edge["node"]["logs"] for edge in data["jobs"]["edges"]}
    assert all(
        [line["node"]["sequence"] for line in page["edges"]] == [1, 2, 3] for page in pages.values()
    )
    assert len(pages) == 6
    log_reads = [s for s in sql_statements if "FROM log_lines" in s]
    assert len(log_reads) == 1, log_reads

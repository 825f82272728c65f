"""GraphQL over HTTP: application/graphql-response+json for the clients that ask for it,
application/json for the others, and the graphql-http audit of the whole spec."""

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.runtime import Runtime
from tests.support.graphql import serving
from tests.support.node import json_line, start_node, stopped
from tests.support.servers import LiveServer

GRAPHQL_RESPONSE = "application/graphql-response+json"
BOTH = f"{GRAPHQL_RESPONSE}, application/json;q=0.9"
JOBS = "{ jobs(first: 1) { totalCount } }"
UNPARSABLE = "{ jobs(first: 1) { totalCount }"
INVALID = "{ jobs(first: 1) { noSuchField } }"
WITH_VARIABLE = "query Page($first: Int) { jobs(first: $first) { totalCount } }"
AUDIT_SECONDS = 60


async def post(
    http: httpx.AsyncClient, accept: str | None, query: str, **variables: object
) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


@pytest.mark.parametrize("query", [UNPARSABLE, INVALID], ids=["parse", "validation"])
async def test_a_request_error_in_graphql_response_json_is_a_400_without_data(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await post(client, BOTH, query)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"]


async def test_variables_that_do_not_coerce_are_a_400_in_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, GRAPHQL_RESPONSE, WITH_VARIABLE, first="many")

    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
async def test_older_clients_get_application_json_with_200_on_request_errors(
    client: httpx.AsyncClient, accept: str | None
) -> None:
    response = await post(client, accept, INVALID)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None


async def test_a_client_preferring_application_json_gets_it(client: httpx.AsyncClient) -> None:
    response = await post(client, f"application/json, {GRAPHQL_RESPONSE};q=0.5", INVALID)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


async def test_a_result_in_graphql_response_json_is_a_200_with_data(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, BOTH, JOBS)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"jobs": {"totalCount": 0}}}


async def test_an_operation_stopped_for_time_is_a_504_in_graphql_response_json(
    runtime: Runtime,
) -> None:
    settings = runtime.settings.model_copy(update={"execution_timeout_seconds": 1e-9})
    async with serving(create_app(runtime=replace(runtime, settings=settings))) as http:
        response = await post(http, GRAPHQL_RESPONSE, JOBS)

    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"] == {"code": "TIMEOUT"}


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The audit asks `__type` in its variables checks: introspection on, as under `dev`."""
    settings = runtime.settings.model_copy(update={"introspection": True})
    return create_app(runtime=replace(runtime, settings=settings))


async def test_the_graphql_http_audit_passes_every_check(
    node_clients: Path, live_server: LiveServer
) -> None:
    # given the graphql-http audit suite (npm graphql-http) against a real server
    node = await start_node(node_clients / "audit.mjs", f"{live_server.http_url}/graphql")
    try:
        async with asyncio.timeout(AUDIT_SECONDS):
            assert node.stdout is not None
            # when it runs all its checks
            report = await json_line(node.stdout)
            await node.wait()
    finally:
        await stopped(node)

    # then every one of them, MUST, SHOULD and MAY alike, is met
    results = report["results"]
    failed = [f"{r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failed == []
    assert len(results) >= 61

"""`jobmonitor operations register FILE...` and JOBMONITOR_OPERATIONS=registered: a server that
runs the registered operations only, by id or by text, over HTTP and websockets."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from server import cli
from server.app import create_app
from server.operations import OperationStore, sha256_of
from server.runtime import Runtime
from server.settings import OperationsMode, Settings
from tests.support.graphql import serving
from tests.support.servers import serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

REGISTERED = "query Registered { jobs(first: 1) { totalCount } }"
OTHER = "query Other { jobs(first: 2) { totalCount } }"
SUBSCRIPTION = "subscription { jobCounts { all } }"
NOT_REGISTERED = "OPERATION_NOT_REGISTERED"

runner = CliRunner()


@pytest.fixture
def registered_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings.model_copy(update={"operations": OperationsMode.REGISTERED})
    return create_app(runtime=replace(runtime, settings=settings))


@pytest.fixture
async def registered_client(
    registered_app: FastAPI, runtime: Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    await runtime.operations.register([(sha256_of(REGISTERED), REGISTERED)])
    async with serving(registered_app) as http:
        yield http


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json=body)
    result: dict[str, Any] = response.json()
    return result


def by_id(operation_id: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation_id}}}


async def test_a_registered_operation_runs_by_id_and_by_text(
    registered_client: httpx.AsyncClient,
) -> None:
    expected = {"data": {"jobs": {"totalCount": 0}}}

    assert await post(registered_client, by_id(sha256_of(REGISTERED))) == expected
    assert await post(registered_client, {"query": REGISTERED}) == expected


async def test_anything_else_is_refused_with_a_clear_error(
    registered_client: httpx.AsyncClient,
) -> None:
    # when a client sends an unregistered document, as text and as an automatic persisted query
    as_text = await post(registered_client, {"query": OTHER})
    as_apq = await post(registered_client, {"query": OTHER, **by_id(sha256_of(OTHER))})
    unknown_id = await post(registered_client, by_id(sha256_of(OTHER)))

    # then nothing runs, it is told why and how to register it, and nothing is remembered
    for refused in (as_text, as_apq):
        assert refused["data"] is None
        [error] = refused["errors"]
        assert error["extensions"]["code"] == NOT_REGISTERED
        assert "jobmonitor operations register" in error["message"]
    assert unknown_id["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_remembered_automatic_query_does_not_count_as_registered(
    registered_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # given a document an open server remembered from a client
    remembered = f"{OTHER} # {id(registered_client)}"
    await runtime.operations.remember(sha256_of(remembered), remembered)

    refused = await post(registered_client, by_id(sha256_of(remembered)))

    assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_unregistered_subscription_is_refused_over_websockets(
    registered_app: FastAPI,
) -> None:
    async with serve(registered_app) as server, graphql_ws(server.ws_url, TRANSPORT_WS) as ws:
        await ws.subscribe("1", SUBSCRIPTION)
        message = await ws.receive()

    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == NOT_REGISTERED


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'operations.db'}"
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", url)
    return url


def test_register_reads_documents_and_apollo_and_relay_manifests(
    database: str, tmp_path: Path
) -> None:
    # given a GraphQL document, an Apollo manifest and a Relay manifest
    document = tmp_path / "page.graphql"
    document.write_text(REGISTERED)
    apollo = tmp_path / "apollo.json"
    apollo.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": sha256_of(OTHER), "name": "Other", "type": "query", "body": OTHER}
                ],
            }
        )
    )
    relay = tmp_path / "relay.json"
    relay.write_text(json.dumps({"relay-1": SUBSCRIPTION}))

    # when they are registered
    result = runner.invoke(
        cli.app, ["operations", "register", str(document), str(apollo), str(relay)]
    )

    # then each operation is registered under its id
    assert result.exit_code == 0, result.output
    assert "3 operation(s) registered" in result.output
    found = asyncio.run(_registered(database, [sha256_of(REGISTERED), sha256_of(OTHER), "relay-1"]))
    assert found == [REGISTERED, OTHER, SUBSCRIPTION]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ jobs(first: 1) { noSuchField } }", "noSuchField"),
        ("{ jobs(", "Syntax Error"),
    ],
)
def test_register_refuses_a_document_that_does_not_validate(
    database: str, tmp_path: Path, content: str, message: str
) -> None:
    document = tmp_path / "broken.graphql"
    document.write_text(content)

    result = runner.invoke(cli.app, ["operations", "register", str(document)])

    assert result.exit_code == 1
    assert message in result.output


def test_register_refuses_an_apollo_manifest_whose_ids_are_not_the_bodies_hashes(
    database: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "apollo.json"
    operation = {"id": "0" * 64, "name": "Other", "type": "query", "body": OTHER}
    manifest.write_text(
        json.dumps({"format": "apollo-persisted-query-manifest", "operations": [operation]})
    )

    result = runner.invoke(cli.app, ["operations", "register", str(manifest)])

    assert result.exit_code == 1
    assert "not the SHA-256 of its body" in result.output


async def _registered(database_url: str, ids: list[str]) -> list[str | None]:
    runtime = Runtime.from_settings(Settings(database_url=database_url))
    try:
        store = OperationStore(runtime.session_factory, capacity=0)
        found = [await store.find(operation_id) for operation_id in ids]
        return [known.document if known and known.registered else None for known in found]
    finally:
        await runtime.close()

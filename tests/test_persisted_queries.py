"""Automatic persisted queries as Apollo Client's persisted-query link speaks them, kept in
the database for every replica, in a bounded set."""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.db.models import PersistedOperation
from server.operations import OperationStore, sha256_of
from server.runtime import Runtime
from tests.support.node import json_line, start_node, stopped
from tests.support.servers import LiveServer

QUERY = "query Count { jobs(first: 1) { totalCount } }"
RUN_SECONDS = 30


def persisted(operation_id: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": operation_id}}


async def by_hash(http: httpx.AsyncClient, operation_id: str) -> dict[str, Any]:
    response = await http.post("/graphql", json={"extensions": persisted(operation_id)})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def with_text(http: httpx.AsyncClient, query: str, operation_id: str) -> dict[str, Any]:
    body = {"query": query, "extensions": persisted(operation_id)}
    response = await http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors") or []]


async def test_an_unknown_hash_is_not_found_until_sent_with_its_document(
    client: httpx.AsyncClient,
) -> None:
    # given a query the server has never seen (the tenant makes it unique to this test)
    query = f"{QUERY} # {id(client)}"
    operation_id = sha256_of(query)

    # when a client sends its hash alone, then with the document, then alone again
    unknown = await by_hash(client, operation_id)
    registered = await with_text(client, query, operation_id)
    known = await by_hash(client, operation_id)

    # then the first is PersistedQueryNotFound and the others run it
    assert unknown["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert registered == known == {"data": {"jobs": {"totalCount": 0}}}


async def test_a_document_whose_hash_differs_is_refused_and_not_kept(
    client: httpx.AsyncClient,
) -> None:
    wrong = sha256_of("something else")

    refused = await with_text(client, QUERY, wrong)
    still_unknown = await by_hash(client, wrong)

    assert codes(refused) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert codes(still_unknown) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_hash_over_get_runs_the_query(client: httpx.AsyncClient) -> None:
    query = f"{QUERY} # get {id(client)}"
    await with_text(client, query, sha256_of(query))

    response = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(sha256_of(query)))},
        headers={"Accept": "*/*"},
    )

    assert response.json() == {"data": {"jobs": {"totalCount": 0}}}


async def test_a_replica_finds_what_another_remembered(shared_runtime: Runtime) -> None:
    # given two servers on one database, each with its own memory
    first = OperationStore(shared_runtime.session_factory, capacity=100)
    second = OperationStore(shared_runtime.session_factory, capacity=100)
    query = f"{QUERY} # replica {id(first)}"

    # when the first remembers a document
    await first.remember(sha256_of(query), query)

    # then the second finds it in the database
    found = await second.find(sha256_of(query))
    assert found is not None
    assert found.document == query
    assert not found.registered


async def test_the_automatic_set_keeps_only_the_most_recently_loaded(
    shared_runtime: Runtime,
) -> None:
    # given a store that keeps two automatic persisted queries, and a registered operation
    store = OperationStore(shared_runtime.session_factory, capacity=2)
    await _forget_automatic(shared_runtime)
    registered = f"{QUERY} # registered {id(store)}"
    await store.register([(sha256_of(registered), registered)])
    documents = [f"{QUERY} # {n} {id(store)}" for n in range(4)]

    # when four are remembered one after another
    for document in documents:
        await store.remember(sha256_of(document), document)

    # then the database holds the last two and the registered one
    async with shared_runtime.session_factory() as session:
        kept = set(await session.scalars(select(PersistedOperation.document)))
    assert kept == {registered, *documents[2:]}


async def _forget_automatic(runtime: Runtime) -> None:
    async with runtime.session_factory() as session, session.begin():
        rows = await session.scalars(
            select(PersistedOperation).where(PersistedOperation.registered.is_(False))
        )
        for row in rows:
            await session.delete(row)


@pytest.mark.parametrize("method", ["post", "get"])
async def test_apollo_clients_persisted_query_link_sends_the_document_once(
    node_clients: Path, live_server: LiveServer, method: str
) -> None:
    # given Apollo Client with createPersistedQueryLink, asking a new query three times
    alias = f"page_{uuid.uuid4().hex[:12]}"
    node = await start_node(
        node_clients / "persisted.mjs", f"{live_server.http_url}/graphql", method, alias
    )
    try:
        async with asyncio.timeout(RUN_SECONDS):
            assert node.stdout is not None
            lines = [await json_line(node.stdout) for _ in range(7)]
            await node.wait()
    finally:
        await stopped(node)

    # then it sent the hash alone and was told PersistedQueryNotFound, sent the document
    # once, and the hash alone afterwards, which ran the query
    requests = [line["data"] for line in lines if line["kind"] == "request"]
    hashed = "GET" if method == "get" else "POST"
    ran = {"method": hashed, "sentQuery": False, "status": 200, "errorCodes": []}
    assert requests == [
        {**ran, "errorCodes": ["PERSISTED_QUERY_NOT_FOUND"]},
        {"method": "POST", "sentQuery": True, "status": 200, "errorCodes": []},
        ran,
        ran,
    ]
    page = {alias: {"__typename": "JobConnection", "totalCount": 0}}
    assert [line["data"] for line in lines if line["kind"] == "data"] == [page] * 3
    assert node.returncode == 0

"""@defer over HTTP multipart (multipart/mixed) as Apollo Client speaks it: the page of jobs
paints before Temporal answers, and the timelines follow."""

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.runtime import Runtime
from tests.support.graphql import serving
from tests.support.node import json_line, start_node, stopped
from tests.support.servers import serve
from tests.support.timeline import unique_number, with_timeline

from .test_timeline_outage import add_jobs

LOOKUP_TIMEOUT = 3.0
"""How long the timelines wait for a Temporal that does not answer."""
RUN_SECONDS = 60
DEFERRED_PAGE = """
query DeferredPage { jobs(first: 5) { edges { node { number
  ... @defer(label: "timeline") { timeline { available unavailableReason } } } } } }
"""
MULTIPART = "multipart/mixed;deferSpec=20220824,application/json"


@contextmanager
def hanging_temporal() -> Iterator[str]:
    """An address that accepts connections and never answers: Temporal made slow."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def slow_temporal_runtime(runtime: Runtime, database_url: str) -> Iterator[Runtime]:
    if not database_url.startswith("sqlite"):
        pytest.skip("@defer does not depend on the database: tested on SQLite")
    with hanging_temporal() as address:
        yield with_timeline(
            runtime, temporal_address=address, temporal_lookup_timeout=LOOKUP_TIMEOUT
        )


async def test_apollo_client_gets_the_page_first_and_the_timelines_when_temporal_gives_up(
    node_clients: Path, slow_temporal_runtime: Runtime, tenant: str
) -> None:
    # given jobs whose timelines wait on a Temporal that does not answer
    numbers = sorted(unique_number() for _ in range(3))
    await add_jobs(slow_temporal_runtime, tenant, numbers)
    async with serve(create_app(runtime=slow_temporal_runtime)) as server:
        # when Apollo Client asks for the page with the timelines deferred
        node = await start_node(node_clients / "defer.mjs", f"{server.http_url}/graphql")
        try:
            async with asyncio.timeout(RUN_SECONDS):
                assert node.stdout is not None
                results = [await json_line(node.stdout)]
                while not all("timeline" in job for job in results[-1]["nodes"]):
                    results.append(await json_line(node.stdout))
                await node.wait()
        finally:
            await stopped(node)

    # then the application got the jobs without their timelines first, then with them
    first, last = results[0], results[-1]
    assert sorted(job["number"] for job in first["nodes"]) == numbers
    assert all("timeline" not in job for job in first["nodes"])
    assert sorted(job["number"] for job in last["nodes"]) == numbers
    assert {job["timeline"]["unavailableReason"] for job in last["nodes"]} == {
        "Temporal unreachable"
    }
    assert node.returncode == 0


async def test_a_deferred_answer_is_multipart_with_the_first_part_complete_on_its_own(
    slow_temporal_runtime: Runtime, tenant: str
) -> None:
    await add_jobs(slow_temporal_runtime, tenant, [unique_number()])
    async with serving(create_app(runtime=slow_temporal_runtime)) as http:
        response = await http.post(
            "/graphql", json={"query": DEFERRED_PAGE}, headers={"Accept": MULTIPART}
        )

    assert response.headers["content-type"].startswith("multipart/mixed")
    parts = _json_parts(response.text)
    assert parts[0]["hasNext"] is True
    assert "timeline" not in parts[0]["data"]["jobs"]["edges"][0]["node"]
    assert parts[-1]["hasNext"] is False
    [deferred] = parts[-1]["incremental"]
    assert deferred["path"] == ["jobs", "edges", 0, "node"]
    assert deferred["data"]["timeline"]["unavailableReason"] == "Temporal unreachable"


def _json_parts(body: str) -> list[dict[str, Any]]:
    parts = []
    for chunk in body.split("\r\n---"):
        _headers, _, payload = chunk.partition("\r\n\r\n")
        if payload.strip().startswith("{"):
            parts.append(httpx.Response(200, content=payload.strip()).json())
    return parts

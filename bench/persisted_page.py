"""The 50-job first page sent by hash (an automatic persisted query) against by text.

By hash, the request carries `extensions.persistedQuery.sha256Hash` and no document: the
server takes the document from its memory of persisted operations (the database on a miss),
and parsing and validation are cache hits as they are for a known text. The cases take turns
on one app, in-process over ASGI and over HTTP to uvicorn on 127.0.0.1, with a third case for
scale: `{ __typename }`, the fixed cost of an operation.

    .venv/bin/python -m bench.persisted_page --backends sqlite --jobs 20000 --detailed 20000
"""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import uvloop

from server.app import create_app
from server.operations import sha256_of
from server.runtime import Runtime

from .common import (
    PAGE_QUERY,
    Budget,
    bench_parser,
    bench_settings,
    budget_of,
    checked_json,
    interleave_async,
    on_each_database,
    over_asgi,
    over_http,
    report,
    say,
)

BY_TEXT = "page by text"
BY_HASH = "page by hash"
FLOOR = "{ __typename } by text"


def bodies() -> dict[str, dict[str, Any]]:
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_of(PAGE_QUERY)}}
    return {
        BY_TEXT: {"query": PAGE_QUERY},
        BY_HASH: {"extensions": persisted},
        FLOOR: {"query": "{ __typename }"},
    }


async def compare(title: str, client: httpx.AsyncClient, budget: Budget) -> None:
    requests = bodies()

    def call(name: str) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: client.post("/graphql", json=requests[name])

    # The first by-text request with the hash makes the server remember the document.
    await client.post("/graphql", json={**requests[BY_TEXT], **requests[BY_HASH]})
    if _numbers(checked_json(await call(BY_HASH)())) != _numbers(
        checked_json(await call(BY_TEXT)())
    ):
        raise SystemExit("the page by hash differs from the page by text")
    timings = await interleave_async({name: call(name) for name in requests}, budget)
    summaries = report(title, timings, baseline=BY_TEXT)
    change = (summaries[BY_HASH].median / summaries[BY_TEXT].median - 1) * 100
    say(f"  by hash: {change:+.1f} % against by text (median)")


def _numbers(document: dict[str, Any]) -> list[int]:
    return [edge["node"]["number"] for edge in document["data"]["jobs"]["edges"]]


async def measure(database_url: str, budget: Budget) -> None:
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        for title, serve in (
            ("in-process (ASGI), the 50-job page", over_asgi),
            ("HTTP to uvicorn on 127.0.0.1, the 50-job page", over_http),
        ):
            async with serve(create_app(runtime=runtime)) as client:
                await compare(title, client, budget)
    finally:
        await runtime.close()


def main() -> None:
    parser = bench_parser(__doc__, jobs=100_000, runs=300, warmup=30, seconds=120.0)
    arguments = parser.parse_args()
    budget = budget_of(arguments)
    on_each_database(
        arguments,
        "the 50-job page by hash and by text",
        lambda _, url: uvloop.run(measure(url, budget)),
    )


if __name__ == "__main__":
    main()

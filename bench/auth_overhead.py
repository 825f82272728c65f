"""What authentication costs on the 50-job first page (goal: under 5 %).

The same runtime and database serve three apps that differ only in auth: disabled (the
baseline), enabled with a viewer token (the checked token is cached, as in production), and
enabled with the cache off (a token lookup in the database on every request, the cost a
cache miss adds). They take turns, in-process over ASGI (no network: the overhead is a larger
share there, so this is the strict figure) and over HTTP to uvicorn on 127.0.0.1.

    .venv/bin/python -m bench.auth_overhead                     # 100 000 jobs, both backends
    .venv/bin/python -m bench.auth_overhead --backends sqlite --runs 500
"""

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import httpx
import uvloop
from fastapi import FastAPI
from starlette.requests import Request

from server.app import create_app
from server.auth import Role
from server.auth.gate import Gate
from server.auth.store import create_token
from server.runtime import Runtime
from server.settings import AuthMode

from .common import (
    PAGE_QUERY,
    TENANT,
    Budget,
    bench_parser,
    bench_settings,
    budget_of,
    checked_json,
    interleave_async,
    on_each_database,
    over_asgi,
    over_http,
    repeat_async,
    report,
    say,
    summarise,
)

OPEN = "auth disabled (baseline)"
CACHED = "Bearer token, cached"
UNCACHED = "Bearer token, looked up every request"


def apps(runtime: Runtime) -> dict[str, FastAPI]:
    def with_auth(**changes: object) -> FastAPI:
        settings = runtime.settings.model_copy(update={"auth": AuthMode.ENABLED, **changes})
        return create_app(runtime=replace(runtime, settings=settings))

    return {
        OPEN: create_app(runtime=runtime),
        CACHED: with_auth(),
        UNCACHED: with_auth(token_cache_seconds=0),
    }


async def compare(
    title: str,
    clients: dict[str, httpx.AsyncClient],
    token: str,
    budget: Budget,
) -> None:
    headers = {OPEN: {}, CACHED: {"Authorization": f"Bearer {token}"}}
    headers[UNCACHED] = headers[CACHED]
    body = {"query": PAGE_QUERY}

    def call(name: str) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: clients[name].post("/graphql", json=body, headers=headers[name])

    pages = [_numbers(checked_json(await call(name)())) for name in clients]
    if any(page != pages[0] for page in pages) or len(pages[0]) != 50:
        raise SystemExit("the three apps answered the page differently")
    timings = await interleave_async({name: call(name) for name in clients}, budget)
    summaries = report(title, timings, baseline=OPEN)
    base = summaries[OPEN].median
    for name in (CACHED, UNCACHED):
        overhead = (summaries[name].median / base - 1) * 100
        say(f"  {name}: {overhead:+.1f} % against the baseline's median")


def _numbers(document: dict[str, Any]) -> list[int]:
    """The page's job numbers (running jobs' durations move between two answers)."""
    return [edge["node"]["number"] for edge in document["data"]["jobs"]["edges"]]


async def gate_alone(runtime: Runtime, token: str, runs: int) -> None:
    """The work auth adds to a request, timed on its own: the gate admitting a cached token."""
    settings = runtime.settings.model_copy(update={"auth": AuthMode.ENABLED})
    gate = Gate.over(settings, runtime.session_factory, runtime.bus)
    request = Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
        }
    )
    await gate.admit(request)
    summary = summarise(await repeat_async(lambda: gate.admit(request), runs=runs))
    say(
        f"\nthe gate alone, cached token: median {summary.median * 1e6:.1f} µs, "
        f"p95 {summary.p95 * 1e6:.1f} µs ({summary.runs} runs)"
    )


async def measure(database_url: str, budget: Budget) -> None:
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        issued = await create_token(
            runtime.session_factory, tenant=TENANT, role=Role.VIEWER, name="bench"
        )
        await gate_alone(runtime, issued.token, runs=10_000)
        for title, serve in (
            ("in-process (ASGI), the 50-job page", over_asgi),
            ("HTTP to uvicorn on 127.0.0.1, the 50-job page", over_http),
        ):
            async with AsyncExitStack() as stack:
                clients = {
                    name: await stack.enter_async_context(serve(app))
                    for name, app in apps(runtime).items()
                }
                await compare(title, clients, issued.token, budget)
    finally:
        await runtime.close()


def main() -> None:
    parser = bench_parser(__doc__, jobs=100_000, runs=300, warmup=30, seconds=120.0)
    arguments = parser.parse_args()
    budget = budget_of(arguments)
    on_each_database(
        arguments, "auth on the 50-job first page", lambda _, url: uvloop.run(measure(url, budget))
    )


if __name__ == "__main__":
    main()

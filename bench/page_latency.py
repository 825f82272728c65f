"""The 50-job first page over HTTP: GraphQL against a plain JSON route of the same server
that runs the same reads and returns the same fields (goal: at most 2x), then where the
GraphQL time goes (SQL, execution, serialisation) measured in-process and profiled.

    .venv/bin/python -m bench.page_latency                      # SQLite and PostgreSQL
    .venv/bin/python -m bench.page_latency --backends sqlite --runs 100
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import orjson
import uvloop

from dataloaders import ListReader, RowLoaders
from resolvers.context import Context
from resolvers.schema import build_schema
from server.domain.enums import JobOrder
from server.domain.filters import JobFilter
from server.reads.jobs import JobPage, Total
from server.reads.paging import PageRequest
from server.runtime import Runtime
from server.web.context import trusted_context

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
    repeat,
    report,
    say,
    served,
)
from .plain_page import (
    PageData,
    page_document,
    plain_page_bytes,
    read_page,
    read_page_loader_style,
)
from .profiling import profile_async

HTTP_FLOOR = "HTTP /healthz (floor)"
HTTP_PLAIN = "HTTP plain JSON route"
HTTP_GRAPHQL = "HTTP GraphQL"
SQL_ONE = "in-process SQL: 4 reads, one session"
SQL_LOADERS = "in-process SQL: 4 reads, a session each"
PLAIN_LOCAL = "in-process plain route (SQL+dicts+orjson)"
GRAPHQL_PREFETCHED = "in-process GraphQL execute, no SQL"
GRAPHQL_LOCAL = "in-process GraphQL execute (with SQL)"
GRAPHQL_FIXED = "in-process GraphQL execute { __typename }"
JSON_DUMPS = "GraphQL: json.dumps (Strawberry's encode_json)"


def _check_same_page(graphql: dict[str, Any], plain: dict[str, Any]) -> None:
    """Both routes must say the same thing, or the ratio compares different work. Live
    durations grow between the two requests: they may differ by a few seconds."""
    graphql_durations, plain_durations = _durations(graphql), _durations(plain)
    same_durations = len(graphql_durations) == len(plain_durations) and all(
        (first is None) == (second is None)
        and (first is None or second is None or abs(first - second) < 5.0)
        for first, second in zip(graphql_durations, plain_durations, strict=True)
    )
    if _without_durations(graphql) != _without_durations(plain) or not same_durations:
        raise SystemExit("the plain route and GraphQL returned different pages")
    say("  checked: the plain route returns the same fields and values as GraphQL")


def _durations(document: dict[str, Any]) -> list[float | None]:
    edges = document["data"]["jobs"]["edges"]
    return [edge["node"]["durationSeconds"] for edge in edges]


def _without_durations(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_durations(item) for key, item in value.items() if key != "durationSeconds"
        }
    if isinstance(value, list):
        return [_without_durations(item) for item in value]
    return value


class PrefetchedLists(ListReader):
    """A ListReader that answers the page and the total from memory, to time GraphQL alone."""

    def __init__(self, runtime: Runtime, data: PageData) -> None:
        super().__init__(
            runtime.session_factory,
            tenant=TENANT,
            exact_total_limit=runtime.settings.exact_total_limit,
        )
        self._data = data

    async def job_page(
        self, job_filter: JobFilter, *, order: JobOrder, page: PageRequest
    ) -> JobPage:
        return self._data.page

    async def job_total(self, job_filter: JobFilter) -> Total:
        return Total(self._data.total, exact=True)


def _prefetched_context(runtime: Runtime, data: PageData) -> Context:
    context = trusted_context(runtime, TENANT)
    row_loaders = RowLoaders(runtime.session_factory, tenant=TENANT)
    row_loaders.workflow.prime_many(dict(data.workflows))
    row_loaders.agent.prime_many(dict(data.agents))
    context.loaders = replace(
        context.loaders, rows=row_loaders, lists=PrefetchedLists(runtime, data)
    )
    return context


async def measure(
    database_url: str, budget: Budget, *, serialise_runs: int, profile_runs: int, top: int
) -> dict[str, float]:
    """HTTP requests and in-process parts of the page, all taking turns in one loop (uvloop,
    like the server) so that every figure comes from the same minutes of this noisy
    machine; then serialisation alone and profiles of the GraphQL execution."""
    runtime = Runtime.from_settings(bench_settings(database_url))
    schema = build_schema()
    everything = JobFilter()
    try:
        async with runtime.session_factory() as session:
            data = await read_page(session, tenant=TENANT, job_filter=everything, after=None)

        async def sql_one_session() -> None:
            async with runtime.session_factory() as session:
                await read_page(session, tenant=TENANT, job_filter=everything, after=None)

        async def sql_loader_style() -> None:
            await read_page_loader_style(
                runtime.session_factory, tenant=TENANT, job_filter=everything, after=None
            )

        async def plain_route() -> None:
            await plain_page_bytes(
                runtime.session_factory, tenant=TENANT, job_filter=everything, after=None
            )

        async def graphql_execute() -> Any:
            result = await schema.execute(
                PAGE_QUERY, context_value=trusted_context(runtime, TENANT)
            )
            if result.errors:
                raise SystemExit(f"GraphQL errors: {result.errors}")
            return result.data

        async def graphql_without_sql() -> Any:
            result = await schema.execute(
                PAGE_QUERY, context_value=_prefetched_context(runtime, data)
            )
            if result.errors:
                raise SystemExit(f"GraphQL errors: {result.errors}")
            return result.data

        async def graphql_fixed_cost() -> Any:
            result = await schema.execute(
                "{ __typename }", context_value=trusted_context(runtime, TENANT)
            )
            if result.errors:
                raise SystemExit(f"GraphQL errors: {result.errors}")
            return result.data

        with served(database_url) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                body = {"query": PAGE_QUERY}

                async def http_graphql() -> httpx.Response:
                    return await client.post("/graphql", json=body)

                async def http_plain() -> httpx.Response:
                    return await client.get("/bench/jobs-page")

                async def http_floor() -> httpx.Response:
                    return await client.get("/healthz")

                graphql_response, plain_response = await http_graphql(), await http_plain()
                _check_same_page(checked_json(graphql_response), checked_json(plain_response))
                say(
                    f"  response sizes: GraphQL {len(graphql_response.content):,} B, "
                    f"plain {len(plain_response.content):,} B"
                )
                cases: dict[str, Callable[[], Awaitable[object]]] = {
                    HTTP_FLOOR: http_floor,
                    HTTP_PLAIN: http_plain,
                    HTTP_GRAPHQL: http_graphql,
                    SQL_ONE: sql_one_session,
                    SQL_LOADERS: sql_loader_style,
                    PLAIN_LOCAL: plain_route,
                    GRAPHQL_PREFETCHED: graphql_without_sql,
                    GRAPHQL_LOCAL: graphql_execute,
                    GRAPHQL_FIXED: graphql_fixed_cost,
                }
                timings = await interleave_async(cases, budget)
        summaries = report(
            "per page, all cases taking turns (HTTP: httpx.AsyncClient, one keep-alive connection)",
            timings,
            baseline=HTTP_PLAIN,
        )
        medians = {name: summary.median for name, summary in summaries.items()}

        graphql_document = {"data": await graphql_execute()}
        plain_document = page_document(data)
        serialisation = {
            "plain: build dicts from rows": lambda: page_document(data),
            "plain: orjson.dumps": lambda: orjson.dumps(plain_document),
            JSON_DUMPS: lambda: json.dumps(graphql_document, separators=(",", ":")),
            "GraphQL: orjson.dumps (if it used orjson)": lambda: orjson.dumps(graphql_document),
        }
        serialised = {
            name: repeat(call, runs=serialise_runs) for name, call in serialisation.items()
        }
        summaries = report("serialisation, per page", serialised, baseline="plain: orjson.dumps")
        medians.update({name: summary.median for name, summary in summaries.items()})

        say("\nprofile of the GraphQL execution (with SQL), this thread only")
        await profile_async(graphql_execute, runs=profile_runs, top=top)
        say("\nprofile of the GraphQL execution with the data prefetched (no SQL)")
        await profile_async(graphql_without_sql, runs=profile_runs, top=top)
    finally:
        await runtime.close()
    return medians


def print_breakdown(medians: dict[str, float]) -> None:
    """Where the GraphQL page's time goes, from the medians above."""
    sql = medians[SQL_LOADERS]
    execute = medians[GRAPHQL_LOCAL]
    encode = medians[JSON_DUMPS]
    graphql, plain, floor = medians[HTTP_GRAPHQL], medians[HTTP_PLAIN], medians[HTTP_FLOOR]
    parts = [
        ("SQL: the 4 reads, a session each, as the loaders do them", sql),
        ("GraphQL execution beyond SQL (execute with SQL - SQL)", execute - sql),
        ("serialisation: json.dumps of the result", encode),
        ("HTTP + FastAPI + Strawberry view (HTTP - execute - dumps)", graphql - execute - encode),
    ]
    say("\nwhere the GraphQL page's time goes (medians in ms; differences are approximate)")
    for label, seconds in parts:
        say(f"  {seconds * 1e3:>8.3f}  {seconds / graphql:>6.1%}  {label}")
    say(f"  {graphql * 1e3:>8.3f}  {1:>6.1%}  = GraphQL over HTTP")
    say(
        f"  GraphQL execution on prefetched data {medians[GRAPHQL_PREFETCHED] * 1e3:.3f} ms, of "
        f"which a fixed {medians[GRAPHQL_FIXED] * 1e3:.3f} ms per operation ({{ __typename }}: "
        "extensions, cached parse and validation) and the rest per field"
    )
    say(
        f"  for comparison: GraphQL execution on prefetched data alone "
        f"{medians[GRAPHQL_PREFETCHED] * 1e3:.3f} ms; plain route in-process "
        f"{medians[PLAIN_LOCAL] * 1e3:.3f} ms, over HTTP {plain * 1e3:.3f} ms; "
        f"HTTP floor {floor * 1e3:.3f} ms"
    )
    say(f"\n  GraphQL / plain over HTTP: {graphql / plain:.2f}x (goal: at most 2x)")
    say(
        f"  the same without the HTTP floor ((GraphQL - floor) / (plain - floor)): "
        f"{(graphql - floor) / (plain - floor):.2f}x"
    )


def main() -> None:
    parser = bench_parser(__doc__, jobs=100_000, runs=300, warmup=30, seconds=240.0)
    parser.add_argument("--serialise-runs", type=int, default=2000)
    parser.add_argument("--profile-runs", type=int, default=200)
    parser.add_argument("--top", type=int, default=15, help="functions to list per profile")
    arguments = parser.parse_args()
    budget = budget_of(arguments)

    def run(_backend: str, database_url: str) -> None:
        medians = uvloop.run(
            measure(
                database_url,
                budget,
                serialise_runs=arguments.serialise_runs,
                profile_runs=arguments.profile_runs,
                top=arguments.top,
            )
        )
        print_breakdown(medians)

    on_each_database(arguments, "the 50-job first page", run)


if __name__ == "__main__":
    main()

"""Ticket search at 1 000 000 jobs on PostgreSQL: the 50-job page with its total, for terms
from 3 characters to a full key, rare and common. Goal: under 50 ms p95 for every term.

Each term is timed three ways, taking turns: the exact `count(*)` the total used to be (the
baseline of the ratios), the reads of the page as the loaders make them (the page and the
total at once, in two sessions), and the whole GraphQL page over HTTP. The total is exact up
to JOBMONITOR_EXACT_TOTAL_LIMIT matches and estimated beyond (`totalCountExact: false`); the
estimate's error against the exact count is printed beside it.

    .venv/bin/python -m bench.search                 # reuses deep_pages' 1 000 000 jobs
    .venv/bin/python -m bench.search --terms scr,scrum-727 --runs 50
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import httpx
import uvloop
from sqlalchemy import func, select

from server.db.models import Job
from server.domain.enums import JobOrder
from server.domain.filters import JobFilter
from server.reads import jobs
from server.reads.paging import PageRequest
from server.runtime import Runtime

from .common import (
    PAGE_QUERY_AFTER,
    TENANT,
    Budget,
    bench_parser,
    bench_settings,
    budget_of,
    checked_json,
    interleave_async,
    on_each_database,
    report,
    say,
    served,
)

GOAL_SECONDS = 0.050
TERMS = "scr,mvp,ops,sec,um-3,plat-39,scrum-727,zzz"
"""Seeded keys: SCRUM 41 %, MVP 23 %, OPS 14 %, PLAT 9 %, SEC 5 % of jobs, ~250 jobs a key."""
BASELINE = "exact count(*)"


async def measure(
    database_url: str, terms: list[str], limits: list[int], *, budget: Budget
) -> None:
    settings = bench_settings(database_url)
    runtime = Runtime.from_settings(settings)
    limit = settings.exact_total_limit
    goals: dict[str, float] = {}
    everything = await _exact_count(runtime, JobFilter())
    try:
        with served(database_url) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
                for term in terms:
                    job_filter = JobFilter(search=term)
                    exact = await _exact_count(runtime, job_filter)
                    total = await _loader_reads(runtime, job_filter, limit)()
                    say(_described(term, exact, total, everything, limit))
                    body = {"query": PAGE_QUERY_AFTER, "variables": {"filter": {"search": term}}}

                    async def page_over_http(body: Mapping[str, object] = body) -> object:
                        return checked_json(await client.post("/graphql", json=body))

                    cases: dict[str, Callable[[], Awaitable[object]]] = {
                        BASELINE: _counting(runtime, job_filter),
                        **{
                            f"page + total exact to {other:,}, loader reads": _loader_reads(
                                runtime, job_filter, other
                            )
                            for other in limits
                        },
                        "page + total, GraphQL over HTTP": page_over_http,
                    }
                    summaries = report(
                        f"search {term!r}", await interleave_async(cases, budget), baseline=BASELINE
                    )
                    goals[term] = summaries["page + total, GraphQL over HTTP"].p95
    finally:
        await runtime.close()
    say("\np95 of the page with its total over HTTP, against the 50 ms goal:")
    for term, p95 in goals.items():
        verdict = "met" if p95 < GOAL_SECONDS else "NOT met"
        say(f"  {term!r:<14} {p95 * 1e3:7.2f} ms  {verdict}")


async def _exact_count(runtime: Runtime, job_filter: JobFilter) -> int:
    async with runtime.session_factory() as session:
        conditions = await jobs.filter_conditions(session, tenant=TENANT, job_filter=job_filter)
        return int(
            await session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
        )


def _counting(runtime: Runtime, job_filter: JobFilter) -> Callable[[], Awaitable[int]]:
    return lambda: _exact_count(runtime, job_filter)


def _loader_reads(
    runtime: Runtime, job_filter: JobFilter, limit: int
) -> Callable[[], Awaitable[jobs.Total]]:
    async def page() -> jobs.JobPage:
        async with runtime.session_factory() as session:
            return await jobs.list_jobs(
                session,
                tenant=TENANT,
                job_filter=job_filter,
                order=JobOrder.CREATED_AT_DESC,
                page=PageRequest(limit=50, cursor=None, backward=False),
            )

    async def total() -> jobs.Total:
        async with runtime.session_factory() as session:
            return await jobs.count_jobs(
                session, tenant=TENANT, job_filter=job_filter, exact_up_to=limit
            )

    async def both() -> jobs.Total:
        _, counted = await asyncio.gather(page(), total())
        return counted

    return both


def _described(term: str, exact: int, total: jobs.Total, everything: int, limit: int) -> str:
    kind = "exact" if total.exact else f"estimated, off by {_error(total.count, exact):+.1%}"
    return (
        f"\n{term!r}: {exact:,} matches ({exact / everything:.2%} of {everything:,} jobs); "
        f"the API's total {total.count:,} ({kind}; exact up to {limit:,})"
    )


def _error(estimate: int, exact: int) -> float:
    return (estimate - exact) / exact if exact else 0.0


def main() -> None:
    parser = bench_parser(__doc__, jobs=1_000_000, runs=40, warmup=3, seconds=60.0)
    parser.set_defaults(backends="postgresql")
    parser.add_argument("--terms", default=TERMS, help="comma-separated search terms")
    parser.add_argument(
        "--limits",
        default="1000,2000,10000",
        help="exact-total limits compared in-process (HTTP uses JOBMONITOR_EXACT_TOTAL_LIMIT)",
    )
    arguments = parser.parse_args()
    budget = budget_of(arguments)
    terms = [term.strip() for term in arguments.terms.split(",") if term.strip()]
    limits = [int(limit) for limit in arguments.limits.split(",")]
    on_each_database(
        arguments,
        "ticket search, page with total",
        lambda _backend, url: uvloop.run(measure(url, terms, limits, budget=budget)),
    )


if __name__ == "__main__":
    main()

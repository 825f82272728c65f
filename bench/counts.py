"""Tab counts: every status count for a filter in one round trip (the jobCounts query),
unfiltered (answered by the job_status_counts summary table) and filtered (workflow, search),
in-process (server.reads.jobs.count_by_status) and over HTTP, against the plain
`SELECT status, count(*) FROM jobs GROUP BY status` the summary table replaces.
Goal: unfiltered counts under 50 ms on PostgreSQL.

    .venv/bin/python -m bench.counts                            # 1 000 000 jobs, both backends
    .venv/bin/python -m bench.counts --backends sqlite --runs 10
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import uvloop
from sqlalchemy import text

from server.domain.filters import JobFilter
from server.reads.jobs import count_by_status
from server.runtime import Runtime

from .common import (
    COUNTS_QUERY,
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
GROUP_BY = "SELECT status, count(*) FROM jobs GROUP BY status"
GROUP_BY_TENANT = "SELECT status, count(*) FROM jobs WHERE tenant_id = :tenant GROUP BY status"
BASELINE = "baseline: GROUP BY status, whole table"


@dataclass(frozen=True)
class Case:
    label: str
    job_filter: JobFilter
    graphql_filter: dict[str, object] | None


def cases_for(workflow: str, search: str) -> tuple[Case, ...]:
    return (
        Case("unfiltered (summary table)", JobFilter(), None),
        Case(f"workflow {workflow}", JobFilter(workflows=(workflow,)), {"workflow": [workflow]}),
        Case(f"search {search!r}", JobFilter(search=search), {"search": search}),
    )


async def measure(
    database_url: str, cases: tuple[Case, ...], *, budget: Budget, backend: str
) -> None:
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:

        def raw(sql: str) -> Callable[[], Awaitable[object]]:
            async def run() -> object:
                async with runtime.session_factory() as session:
                    return (await session.execute(text(sql), {"tenant": TENANT})).all()

            return run

        def counted(job_filter: JobFilter) -> Callable[[], Awaitable[object]]:
            async def run() -> object:
                async with runtime.session_factory() as session:
                    return await count_by_status(session, tenant=TENANT, job_filter=job_filter)

            return run

        local: dict[str, Callable[[], Awaitable[object]]] = {
            BASELINE: raw(GROUP_BY),
            "baseline: GROUP BY status, one tenant": raw(GROUP_BY_TENANT),
        }
        for case in cases:
            local[f"count_by_status: {case.label}"] = counted(case.job_filter)
        for name, run in local.items():
            if not await run():
                raise SystemExit(f"{name} counted nothing")
        timings = await interleave_async(local, budget)
        report("in-process: all tab counts for a filter, one query", timings, baseline=BASELINE)
        baseline_median = sorted(timings[BASELINE])[len(timings[BASELINE]) // 2]

        with served(database_url) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:

                def query(case: Case) -> Callable[[], Awaitable[object]]:
                    body = {"query": COUNTS_QUERY, "variables": {"filter": case.graphql_filter}}

                    async def send() -> object:
                        return await client.post("/graphql", json=body)

                    return send

                requests: dict[str, Callable[[], Awaitable[object]]] = {
                    f"jobCounts: {case.label}": query(case) for case in cases
                }
                for request in requests.values():
                    response = await request()
                    assert isinstance(response, httpx.Response)
                    checked_json(response)
                http = await interleave_async(requests, budget)
        http[BASELINE + " (in-process, above)"] = [baseline_median]
        summaries = report(
            "over HTTP: the jobCounts query",
            http,
            baseline=BASELINE + " (in-process, above)",
        )
        unfiltered = summaries[f"jobCounts: {cases[0].label}"].median
        verdict = "met" if unfiltered < GOAL_SECONDS else "NOT met"
        say(
            f"  {backend}: unfiltered jobCounts over HTTP {unfiltered * 1e3:.2f} ms "
            f"(goal under {GOAL_SECONDS * 1e3:.0f} ms on PostgreSQL: {verdict})"
        )
    finally:
        await runtime.close()


def main() -> None:
    parser = bench_parser(__doc__, jobs=1_000_000, runs=30, warmup=2, seconds=120.0)
    parser.add_argument("--workflow", default="se-rca-fix", help="slug for the workflow filter")
    parser.add_argument("--search", default="scrum-3", help="ticket-key search for the filter")
    arguments = parser.parse_args()
    budget = budget_of(arguments)
    cases = cases_for(arguments.workflow, arguments.search)
    on_each_database(
        arguments,
        "tab counts",
        lambda backend, url: uvloop.run(measure(url, cases, budget=budget, backend=backend)),
    )


if __name__ == "__main__":
    main()

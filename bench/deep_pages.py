"""Deep pages: the 50 jobs after the first 50 000 against the first page (keyset paging;
goal: at most 1.5x), unfiltered and on the FAILED tab, in-process (server.reads.jobs.list_jobs)
and over HTTP (the GraphQL jobs query), with OFFSET as the contrast.

    .venv/bin/python -m bench.deep_pages                        # 1 000 000 jobs, both backends
    .venv/bin/python -m bench.deep_pages --backends postgresql --depth 200000
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import uvloop
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job
from server.domain.enums import JobOrder, JobStatus
from server.domain.filters import JobFilter
from server.reads.cursors import encode_job_cursor
from server.reads.jobs import list_jobs
from server.reads.paging import PageRequest
from server.runtime import Runtime

from .common import (
    PAGE_QUERY_AFTER,
    TENANT,
    Budget,
    Summary,
    bench_parser,
    bench_settings,
    budget_of,
    checked_json,
    interleave_async,
    on_each_database,
    repeat_async,
    report,
    say,
    served,
)

PAGE = 50


@dataclass(frozen=True)
class Tab:
    label: str
    status: JobStatus | None

    @property
    def job_filter(self) -> JobFilter:
        return JobFilter(statuses=(self.status,)) if self.status is not None else JobFilter()

    @property
    def graphql_filter(self) -> dict[str, object] | None:
        return {"status": [self.status.value]} if self.status is not None else None


TABS = (Tab("all", None), Tab("FAILED", JobStatus.FAILED))


def _ordered(tab: Tab) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Job.tenant_id == TENANT]
    if tab.status is not None:
        conditions.append(Job.status == tab.status)
    return conditions


async def cursor_after(session: AsyncSession, tab: Tab, depth: int) -> tuple[str, int]:
    """The cursor of the `depth`-th job of the tab (newest first), and the number of the job
    that must open the next page; found once with OFFSET."""
    statement = (
        select(Job.created_at, Job.number)
        .where(*_ordered(tab))
        .order_by(Job.created_at.desc(), Job.number.desc())
        .offset(depth - 1)
        .limit(2)
    )
    rows = (await session.execute(statement)).all()
    if len(rows) < 2:
        raise SystemExit(f"the {tab.label} tab has fewer than {depth + 1} jobs")
    created_at, number = rows[0]
    return encode_job_cursor(JobOrder.CREATED_AT_DESC, created_at, number), int(rows[1][1])


async def offset_page(session: AsyncSession, tab: Tab, depth: int) -> list[Job]:
    """The same deep page with OFFSET, the way keyset paging avoids."""
    statement = (
        select(Job)
        .where(*_ordered(tab))
        .order_by(Job.created_at.desc(), Job.number.desc())
        .offset(depth)
        .limit(PAGE + 1)
    )
    return list((await session.scalars(statement)).all())


async def measure(
    database_url: str, *, depth: int, budget: Budget, http_budget: Budget, offset_runs: int
) -> None:
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        cursors: dict[str, str] = {}
        for tab in TABS:
            async with runtime.session_factory() as session:
                cursor, next_number = await cursor_after(session, tab, depth)
                page = await _page(session, tab, cursor)
            if page[0].number != next_number or len(page) != PAGE:
                raise SystemExit(f"the deep {tab.label} page does not resume after the cursor")
            cursors[tab.label] = cursor
        say(f"  checked: each deep page opens with the job after the {depth:,}th")

        cases: dict[str, Callable[[], Awaitable[object]]] = {}
        for tab in TABS:
            cases[f"{tab.label}: first page"] = _reader(runtime, tab, None)
            cases[f"{tab.label}: after {depth:,}"] = _reader(runtime, tab, cursors[tab.label])
        timings = await interleave_async(cases, budget)
        summaries = report(
            "in-process: list_jobs, 50 rows, a session each",
            timings,
            baseline=f"{TABS[0].label}: first page",
        )
        _print_ratios("in-process", summaries, depth)

        offsets = {}
        for tab in TABS:

            async def by_offset(tab: Tab = tab) -> None:
                async with runtime.session_factory() as session:
                    await offset_page(session, tab, depth)

            offsets[f"{tab.label}: OFFSET {depth:,}"] = await repeat_async(
                by_offset, runs=offset_runs
            )
        offsets[f"{TABS[0].label}: first page"] = timings[f"{TABS[0].label}: first page"]
        report(
            "contrast: the same deep page with OFFSET (what keyset avoids)",
            offsets,
            baseline=f"{TABS[0].label}: first page",
        )

        with served(database_url) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                requests: dict[str, Callable[[], Awaitable[object]]] = {}
                for tab in TABS:
                    requests[f"{tab.label}: first page"] = _request(client, tab, None)
                    requests[f"{tab.label}: after {depth:,}"] = _request(
                        client, tab, cursors[tab.label]
                    )
                for request in requests.values():
                    response = await request()
                    assert isinstance(response, httpx.Response)
                    checked_json(response)
                timings = await interleave_async(requests, http_budget)
        summaries = report(
            "over HTTP: the GraphQL jobs query (50 jobs, totalCount, workflow, agent)",
            timings,
            baseline=f"{TABS[0].label}: first page",
        )
        _print_ratios("over HTTP", summaries, depth)
    finally:
        await runtime.close()


async def _page(session: AsyncSession, tab: Tab, cursor: str | None) -> list[Job]:
    page = await list_jobs(
        session,
        tenant=TENANT,
        job_filter=tab.job_filter,
        order=JobOrder.CREATED_AT_DESC,
        page=PageRequest(limit=PAGE, cursor=cursor, backward=False),
    )
    return list(page.jobs)


def _reader(runtime: Runtime, tab: Tab, cursor: str | None) -> Callable[[], Awaitable[object]]:
    async def read() -> object:
        async with runtime.session_factory() as session:
            return await _page(session, tab, cursor)

    return read


def _request(
    client: httpx.AsyncClient, tab: Tab, cursor: str | None
) -> Callable[[], Awaitable[object]]:
    body = {"query": PAGE_QUERY_AFTER, "variables": {"after": cursor, "filter": tab.graphql_filter}}

    async def send() -> object:
        return await client.post("/graphql", json=body)

    return send


def _print_ratios(where: str, summaries: dict[str, Summary], depth: int) -> None:
    for tab in TABS:
        first = summaries[f"{tab.label}: first page"].median
        deep = summaries[f"{tab.label}: after {depth:,}"].median
        verdict = "ok" if deep / first <= 1.5 else "OVER the 1.5x goal"
        say(f"  {where}, {tab.label}: deep / first = {deep / first:.2f}x ({verdict})")


def main() -> None:
    parser = bench_parser(__doc__, jobs=1_000_000, runs=300, warmup=20, seconds=90.0)
    parser.add_argument("--http-runs", type=int, default=200, help="rounds over HTTP")
    parser.add_argument("--depth", type=int, default=50_000, help="jobs before the deep page")
    parser.add_argument("--offset-runs", type=int, default=10, help="runs of the OFFSET contrast")
    arguments = parser.parse_args()
    budget = budget_of(arguments)
    http_budget = Budget(
        runs=arguments.http_runs, warmup=arguments.warmup, seconds=arguments.max_seconds
    )
    on_each_database(
        arguments,
        f"the page after {arguments.depth:,}",
        lambda _, url: uvloop.run(
            measure(
                url,
                depth=arguments.depth,
                budget=budget,
                http_budget=http_budget,
                offset_runs=arguments.offset_runs,
            )
        ),
    )


if __name__ == "__main__":
    main()

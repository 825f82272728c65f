"""jobmonitor and PostGraphile 4 side by side on the same jobs in PostgreSQL.

One process each (the bench server: the real app plus the plain JSON route; PostGraphile
4.14.1 from npm over its copy of the tables, bench/peer_tables.py), the same Node client for
both (bench/node/peer_load.mjs: requests one after another, then autocannon with 16
connections), the cases taking turns. Pages: the 50-job first page with workflow and agent,
with and without the total; the same with a status filter and a ticket search; one job's
detail (steps, events, 100 log lines). Also the plain route and /healthz (the HTTP floor),
and, with --workers, `jobmonitor serve --workers N` at 16 connections.

    .venv/bin/python -m bench.peer_postgraphile [--jobs 100000] [--rounds 3] [--seconds 5]
"""

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from . import peer_tables, postgraphile
from .common import (
    PAGE_FIELDS,
    REPO,
    TENANT,
    SeedPlan,
    add_database_arguments,
    checked_json,
    database_urls,
    drop_postgres_database,
    prepare_database,
    say,
    served,
    served_api,
)

SEARCH = "scrum"
STATUS = "FAILED"
LOG_LINES = 100

JOB_FIELDS = """
    number name status ticketKey stepCount durationSeconds canCancel canResend
"""
NO_TOTAL = PAGE_FIELDS.replace("totalCount", "")


def jobmonitor_page(*, total: bool, filtered: bool) -> str:
    arguments = f'first: 50, filter: {{status: [{STATUS}], search: "{SEARCH}"}}'
    return (
        f"{{ jobs({arguments if filtered else 'first: 50'}) {{"
        f"{PAGE_FIELDS if total else NO_TOTAL}}} }}"
    )


def postgraphile_page(*, total: bool, filtered: bool) -> str:
    condition = f'{{tenantId: "{TENANT}"' + (f', status: "{STATUS}"}}' if filtered else "}")
    search = f', filter: {{ticketKey: {{includesInsensitive: "{SEARCH}"}}}}' if filtered else ""
    return (
        f"{{ allJobs(first: 50, orderBy: [CREATED_AT_DESC, NUMBER_DESC], "
        f"condition: {condition}{search}) {{"
        f"{'totalCount' if total else ''} pageInfo {{ hasNextPage endCursor }}"
        f" edges {{ cursor node {{ nodeId {JOB_FIELDS}"
        " workflowByWorkflowId { slug displayName } agentByAgentId { name } } } } }"
    )


DETAIL_FIELDS = """
    number name status ticketKey createdAt startedAt completedAt durationSeconds
"""
STEP_FIELDS = "index name status attempt startedAt completedAt error"
EVENT_FIELDS = "sequence fromStatus toStatus at actor message"
LOG_FIELDS = "sequence stream message at"


def jobmonitor_detail(number: int) -> str:
    return (
        f"{{ job(number: {number}) {{ id {DETAIL_FIELDS}"
        " workflow { slug displayName } agent { name }"
        f" steps {{ {STEP_FIELDS} }} events {{ {EVENT_FIELDS} }}"
        f" logs(first: {LOG_LINES}) {{ edges {{ node {{ {LOG_FIELDS} }} }} }} }} }}"
    )


def postgraphile_detail(number: int) -> str:
    return (
        f'{{ jobByNumber(number: "{number}") {{ nodeId {DETAIL_FIELDS}'
        " workflowByWorkflowId { slug displayName } agentByAgentId { name }"
        f" jobStepsByJobNumber(orderBy: INDEX_ASC) {{ nodes {{ {STEP_FIELDS} }} }}"
        f" jobEventsByJobNumber(orderBy: SEQUENCE_ASC) {{ nodes {{ {EVENT_FIELDS} }} }}"
        f" logLinesByJobNumber(first: {LOG_LINES}, orderBy: SEQUENCE_ASC)"
        f" {{ nodes {{ {LOG_FIELDS} }} }} }} }}"
    )


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    body: str | None
    """A GraphQL POST body; None: a GET."""


PAGES = {
    "page": {"total": True, "filtered": False},
    "page, no total": {"total": False, "filtered": False},
    "filtered": {"total": True, "filtered": True},
    "filtered, no total": {"total": False, "filtered": True},
}


def cases(
    *,
    jobmonitor: str,
    unshared: str,
    peer: str,
    detail_number: int,
    serve: Mapping[int, str],
) -> list[Case]:
    """Every case; `unshared` is the bench server with JOBMONITOR_SHARE_IDENTICAL_READS=false
    (the load client sends identical requests, which the server otherwise shares)."""

    def post(query: str) -> str:
        return json.dumps({"query": query})

    found = [
        Case("floor", f"{jobmonitor}/healthz", None),
        Case("plain", f"{jobmonitor}/bench/jobs-page", None),
        Case(
            "plain, filtered", f"{jobmonitor}/bench/jobs-page?status={STATUS}&search={SEARCH}", None
        ),
    ]
    ours = {page: post(jobmonitor_page(**shape)) for page, shape in PAGES.items()}
    ours["detail"] = post(jobmonitor_detail(detail_number))
    theirs = {page: post(postgraphile_page(**shape)) for page, shape in PAGES.items()}
    theirs["detail"] = post(postgraphile_detail(detail_number))
    for page, body in ours.items():
        found.append(Case(f"jm {page}", f"{jobmonitor}/graphql", body))
        found.append(Case(f"jm {page}, unshared", f"{unshared}/graphql", body))
        found.append(Case(f"pg {page}", peer, theirs[page]))
    for workers, url in serve.items():
        for page in ("page", "page, no total"):
            query = post(jobmonitor_page(**PAGES[page]))
            found.append(Case(f"serve {workers} {page}", f"{url}/graphql", query))
    return found


def run_load(
    folder: Path, found: list[Case], *, rounds: int, sequential: int, seconds: float
) -> dict[str, dict[str, Any]]:
    """bench/node/peer_load.mjs over the cases; its JSON results by case name."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is missing")
    plan = {
        "modules": str(folder),
        "rounds": rounds,
        "sequential": sequential,
        "seconds": seconds,
        "connections": CONNECTIONS,
        "cases": [{"name": c.name, "url": c.url, "body": c.body} for c in found],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(plan, file)
        file.flush()
        finished = subprocess.run(
            [node, str(REPO / "bench" / "node" / "peer_load.mjs"), file.name],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
    results: dict[str, dict[str, Any]] = json.loads(finished.stdout)
    return results


CONNECTIONS = 16


def check_same_jobs(jobmonitor: str, peer: str) -> None:
    """Both servers list the same jobs on each page, with the same names and values, and the
    same unfiltered totals (a filtered total over JOBMONITOR_EXACT_TOTAL_LIMIT jobs is an
    estimate on jobmonitor's side: both are printed)."""
    for page, shape in PAGES.items():
        ours_total, ours = _jobs_of(
            _answer(f"{jobmonitor}/graphql", jobmonitor_page(**shape)), "jobs"
        )
        theirs_total, theirs = _jobs_of(_answer(peer, postgraphile_page(**shape)), "allJobs")
        exact = not shape["filtered"]
        if ours != theirs or (exact and ours_total != theirs_total):
            raise SystemExit(f"{page}: the two servers disagree:\n{ours[:3]}\n{theirs[:3]}")
        say(f"{page}: both list the same {len(ours)} jobs (totals {ours_total}, {theirs_total})")


def _answer(url: str, query: str) -> dict[str, object]:
    return checked_json(httpx.post(url, json={"query": query}, timeout=60))


def _jobs_of(document: Mapping[str, Any], field: str) -> tuple[Any, list[tuple[Any, ...]]]:
    connection = document["data"][field]
    keys = ("number", "name", "status", "ticketKey", "stepCount", "canCancel", "canResend")
    jobs = [
        (
            *(int(edge["node"][key]) if key == "number" else edge["node"][key] for key in keys),
            edge["node"]["workflow" if field == "jobs" else "workflowByWorkflowId"]["slug"],
        )
        for edge in connection["edges"]
    ]
    return connection.get("totalCount"), jobs


@dataclass(frozen=True)
class Figures:
    ms: float
    """Median latency of requests one after another."""
    rps: float
    """Median requests per second at CONNECTIONS connections."""


def figures(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Figures]:
    return {
        name: Figures(
            ms=statistics.median(result["sequential_ms"]),
            rps=statistics.median(result["rps"]) if result["rps"] else float("nan"),
        )
        for name, result in results.items()
    }


def side_by_side(found: Mapping[str, Figures]) -> Iterator[str]:
    """The table of the issue: per page, latency and throughput of both, and their ratio
    (jobmonitor / PostGraphile for latency, jobmonitor / PostGraphile for throughput)."""
    yield "| page | jobmonitor | PostGraphile 4 | ratio | goal |"
    yield "|---|---|---|---|---|"
    for page in (*PAGES, "detail"):
        ours, theirs = found[f"jm {page}"], found[f"pg {page}"]
        total = "total" not in page and page != "detail"
        latency_goal = "<= 1.0x" if total else "<= 1.5x"
        throughput_goal = ">= 1.0x" if total else ">= 0.5x"
        yield (
            f"| {page}, sequential | {ours.ms:.1f} ms | {theirs.ms:.1f} ms "
            f"| {ours.ms / theirs.ms:.2f}x | {latency_goal} |"
        )
        yield (
            f"| {page}, {CONNECTIONS} connections | {ours.rps:.0f} req/s | {theirs.rps:.0f} req/s "
            f"| {ours.rps / theirs.rps:.2f}x | {throughput_goal} |"
        )
        alone = found[f"jm {page}, unshared"]
        yield (
            f"| {page}, {CONNECTIONS} connections, each executed (sharing off) "
            f"| {alone.rps:.0f} req/s | {theirs.rps:.0f} req/s | {alone.rps / theirs.rps:.2f}x | |"
        )


def against_plain(found: Mapping[str, Figures]) -> Iterator[str]:
    """GraphQL over the plain route on the same SQL, and the plain route over the floor."""
    yield "| comparison | sequential | ratio | goal |"
    yield "|---|---|---|---|"
    pairs = (
        ("page", "jm page", "plain", "<= 1.3x"),
        ("filtered page", "jm filtered", "plain, filtered", "<= 1.3x"),
        ("plain route / HTTP floor", "plain", "floor", "<= 1.5x"),
    )
    for label, case, baseline, goal in pairs:
        yield (
            f"| {label} | {found[case].ms:.2f} / {found[baseline].ms:.2f} ms "
            f"| {found[case].ms / found[baseline].ms:.2f}x | {goal} |"
        )
    yield (
        f"| throughput at {CONNECTIONS} connections: floor, plain, GraphQL page "
        f"| {found['floor'].rps:.0f}, {found['plain'].rps:.0f}, {found['jm page'].rps:.0f} req/s "
        "| | |"
    )


def with_workers(found: Mapping[str, Figures], workers: int) -> Iterator[str]:
    """`jobmonitor serve` with one process and with `workers`, at CONNECTIONS connections."""
    yield f"| `jobmonitor serve`, {CONNECTIONS} connections | 1 process | {workers} | ratio |"
    yield "|---|---|---|---|"
    for page in ("page", "page, no total"):
        one, many = found[f"serve 1 {page}"], found[f"serve {workers} {page}"]
        yield f"| {page} | {one.rps:.0f} req/s | {many.rps:.0f} req/s | {many.rps / one.rps:.2f}x |"


async def prepare(arguments: argparse.Namespace, database_url: str) -> int:
    plan = SeedPlan(jobs=arguments.jobs, detailed=arguments.detailed)
    await prepare_database(database_url, plan, reseed=arguments.reseed)
    return await peer_tables.prepare(database_url, key=plan.key, log_lines=LOG_LINES)


def libpq_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_arguments(parser, jobs=100_000)
    parser.set_defaults(backends="postgresql")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of `jobmonitor serve` beside one"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all cases, taking turns")
    parser.add_argument(
        "--sequential", type=int, default=30, help="requests one after another per case and round"
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="autocannon's duration per case and round"
    )
    arguments = parser.parse_args()
    database_url = database_urls(arguments)["postgresql"]
    folder = postgraphile.install()
    if folder is None:
        say("npm or node is missing: PostGraphile cannot be installed, nothing to compare")
        return
    detail_number = asyncio.run(prepare(arguments, database_url))
    with ExitStack() as stack:
        jobmonitor = stack.enter_context(served(database_url))
        unshared = stack.enter_context(
            served(database_url, environment={"JOBMONITOR_SHARE_IDENTICAL_READS": "false"})
        )
        peer = stack.enter_context(
            postgraphile.served(
                folder, database_url=libpq_url(database_url), schema=peer_tables.SCHEMA
            )
        )
        serve = {
            workers: stack.enter_context(served_api(database_url, workers=workers))
            for workers in sorted({1, arguments.workers})
        }
        check_same_jobs(jobmonitor, peer)
        found = cases(
            jobmonitor=jobmonitor,
            unshared=unshared,
            peer=peer,
            detail_number=detail_number,
            serve=serve,
        )
        say(f"{len(found)} cases, {arguments.rounds} rounds, job #{detail_number} as the detail")
        results = run_load(
            folder,
            found,
            rounds=arguments.rounds,
            sequential=arguments.sequential,
            seconds=arguments.seconds,
        )
    summary = figures(results)
    say(
        f"\n{arguments.jobs} jobs on PostgreSQL, one process each, "
        f"medians of {arguments.rounds} rounds\n"
    )
    for line in side_by_side(summary):
        say(line)
    say("")
    for line in against_plain(summary):
        say(line)
    say("")
    for line in with_workers(summary, arguments.workers):
        say(line)
    if arguments.drop:
        asyncio.run(drop_postgres_database(database_url))


if __name__ == "__main__":
    main()

"""What the benchmarks share: databases seeded once and reused, the app served in a
subprocess on 127.0.0.1, and interleaved timings reported as medians and ratios."""

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
import uvloop
from fastapi import FastAPI
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server.db import migrate
from server.db.engine import create_engine
from server.db.models import Job
from server.db.status_counts import rebuild_status_counts
from server.net import free_port
from server.runtime import Runtime
from server.seed import seed_database
from server.seed.writer import advance_job_numbers
from server.settings import AuthMode, EventBusKind, Settings

REPO = Path(__file__).resolve().parent.parent
TENANT = "default"
HORIZON = datetime(2026, 11, 1, tzinfo=UTC)
"""Seeded times end here, so a reused database holds the same rows as a fresh one."""
LOOPBACK = frozenset({"127.0.0.1", "localhost"})
POSTGRES_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
DATA_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "jobmonitor-bench"
MARKER_TABLE = "bench_seed_marker"
COPY_DAYS = 61
"""Each copy of the detailed jobs moves back by more than the 60 days the seeder spans."""

PAGE_FIELDS = """
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id number name status ticketKey stepCount durationSeconds canCancel canResend
        workflow { slug displayName }
        agent { name }
      }
    }
"""
PAGE_QUERY = "{ jobs(first: 50) {" + PAGE_FIELDS + "} }"
"""The issue's first page of the Jobs screen, exactly."""
PAGE_QUERY_AFTER = (
    "query Page($after: String, $filter: JobFilter) {"
    " jobs(first: 50, after: $after, filter: $filter) {" + PAGE_FIELDS + "} }"
)
COUNTS_QUERY = (
    "query Counts($filter: JobFilter) { jobCounts(filter: $filter) {"
    " all scheduled pending running waiting paused completed failed cancelled } }"
)


# Databases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedPlan:
    """`detailed` jobs come from the product seeder (with steps, events and log lines); the
    rest are copies of their job rows only, moved back in time, so large sets seed fast."""

    jobs: int
    detailed: int
    seed: int = 1

    @property
    def key(self) -> str:
        return (
            f"v1 jobs={self.jobs} detailed={min(self.detailed, self.jobs)} seed={self.seed} "
            f"horizon={HORIZON.isoformat()} copy_days={COPY_DAYS}"
        )


def sqlite_url(jobs: int, data_dir: Path = DATA_DIR) -> str:
    return f"sqlite+aiosqlite:///{data_dir / f'jobs-{jobs}.db'}"


def postgres_url(jobs: int) -> str:
    return f"{POSTGRES_SERVER}/jobmonitor_bench_{jobs}"


def check_loopback(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" and url.host not in LOOPBACK:
        raise SystemExit(f"benchmarks only talk to 127.0.0.1, not {url.host!r}")


def bench_settings(database_url: str) -> Settings:
    """The product's settings, minus what would make a benchmark measure something else
    (tokens, rate limits, the in-browser IDE, a LISTEN connection for events)."""
    return Settings(
        database_url=database_url,
        default_tenant=TENANT,
        auth=AuthMode.DISABLED,
        rate_limit_per_minute=0,
        graphiql=False,
        event_bus=EventBusKind.MEMORY,
    )


async def prepare_database(database_url: str, plan: SeedPlan, *, reseed: bool = False) -> None:
    """Make `database_url` hold exactly `plan`'s data, reusing it when its marker says so
    (unless `reseed`: after a change to the seeder, say), migrated to the current schema.

    A database is only ever reset when it is empty or was made by these benchmarks.
    """
    check_loopback(database_url)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        marker = await _sqlite_marker(url)
    else:
        marker = await _postgres_marker(url)
    if marker == plan.key and not reseed:
        say(f"reusing {_shown(url)} ({plan.key})")
        await _upgrade(database_url)
        return
    if url.get_backend_name() == "sqlite":
        _reset_sqlite(url)
    else:
        await _reset_postgres(url)
    await _seed(database_url, plan)


async def _upgrade(database_url: str) -> None:
    """Migrations added since the data was seeded (they keep the rows as they are)."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _seed(database_url: str, plan: SeedPlan) -> None:
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        await migrate.upgrade(runtime.engine)
        async with runtime.engine.begin() as connection:
            await connection.execute(
                text(f"CREATE TABLE {MARKER_TABLE} (key VARCHAR(400) PRIMARY KEY)")
            )
            await connection.execute(
                text(f"INSERT INTO {MARKER_TABLE} (key) VALUES (:key)"),
                {"key": "incomplete"},
            )
        detailed = min(plan.detailed, plan.jobs)
        report = await seed_database(
            runtime.session_factory, tenant=TENANT, jobs=detailed, seed=plan.seed, now=HORIZON
        )
        say(
            f"seeded {detailed} detailed jobs into {_shown(make_url(database_url))} in "
            f"{report.seconds:.1f} s ({detailed / report.seconds:,.0f} jobs/s with "
            f"{report.steps} steps, {report.events} events, {report.log_lines} log lines)"
        )
        if plan.jobs > detailed:
            started = time.perf_counter()
            async with runtime.engine.begin() as connection:
                await _copy_jobs(connection, detailed=detailed, total=plan.jobs)
                await advance_job_numbers(connection)
            seconds = time.perf_counter() - started
            copied = plan.jobs - detailed
            say(f"copied {copied} job rows in {seconds:.1f} s ({copied / seconds:,.0f} rows/s)")
        async with runtime.session_factory() as session, session.begin():
            await rebuild_status_counts(session, TENANT)
        await _analyze(runtime.engine)
        async with runtime.engine.begin() as connection:
            await connection.execute(
                text(f"UPDATE {MARKER_TABLE} SET key = :key"), {"key": plan.key}
            )
    finally:
        await runtime.close()


async def _copy_jobs(connection: AsyncConnection, *, detailed: int, total: int) -> None:
    """Copies of the detailed jobs' rows, each one COPY_DAYS further back, up to `total`."""
    first = int(await connection.scalar(text("SELECT min(number) FROM jobs")) or 1)
    dialect = connection.dialect.name
    columns = [column.name for column in Job.__table__.columns]
    statement = text(
        f"INSERT INTO jobs ({', '.join(columns)}) "
        f"SELECT {', '.join(_copied(name, dialect) for name in columns)} "
        "FROM jobs WHERE number >= :first AND number < :end"
    )
    copy = 1
    remaining = total - detailed
    while remaining > 0:
        size = min(detailed, remaining)
        await connection.execute(
            statement,
            {
                "first": first,
                "end": first + size,
                "shift": copy * detailed,
                "days": copy * COPY_DAYS,
                "offset": f"-{copy * COPY_DAYS} days",
            },
        )
        remaining -= size
        copy += 1


_TIMES = frozenset({"created_at", "scheduled_for", "started_at", "completed_at"})


def _copied(column: str, dialect: str) -> str:
    """The SELECT expression that makes a copy's value of `column` from the original's."""
    if column == "number":
        return "number + :shift"
    if column == "resent_from_number":
        return "resent_from_number + :shift"
    if column == "resent_as_number":
        # A partial last copy may not hold the resend: then it has none.
        return "CASE WHEN resent_as_number < :end THEN resent_as_number + :shift END"
    if column == "temporal_workflow_id":
        return (
            "CASE WHEN temporal_workflow_id IS NULL THEN NULL "
            "ELSE 'pipeline-job-' || CAST(number + :shift AS VARCHAR(40)) END"
        )
    if column == "idempotency_key":
        return "NULL"
    if column in _TIMES:
        if dialect == "postgresql":
            return f"{column} - make_interval(days => CAST(:days AS INTEGER))"
        # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': shift the seconds, keep the fraction.
        return f"strftime('%Y-%m-%d %H:%M:%S', {column}, :offset) || substr({column}, 20)"
    return column


async def _analyze(engine: AsyncEngine) -> None:
    """PostgreSQL: VACUUM ANALYZE, the state autovacuum would reach (visibility map set for
    index-only scans, statistics for the planner). SQLite: nothing, as in the product."""
    if engine.dialect.name != "postgresql":
        return
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as connection:
        await connection.execute(text("VACUUM ANALYZE"))


def _sqlite_file_exists(url: URL) -> bool:
    return Path(url.database or "").exists()


async def _sqlite_marker(url: URL) -> str | None:
    if not _sqlite_file_exists(url):
        return None
    return await _marker(url.render_as_string(hide_password=False))


async def _marker(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            if MARKER_TABLE in tables:
                key = await connection.scalar(text(f"SELECT key FROM {MARKER_TABLE}"))
                return str(key) if key is not None else ""
            if "jobs" in tables and await connection.scalar(text("SELECT 1 FROM jobs LIMIT 1")):
                raise SystemExit(
                    f"{_shown(make_url(database_url))} holds jobs but was not made by the "
                    "benchmarks: refusing to reset it; pass another database"
                )
            return None
    finally:
        await engine.dispose()


def _reset_sqlite(url: URL) -> None:
    path = Path(url.database or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _admin_engine(url: URL) -> AsyncEngine:
    return create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


async def _postgres_marker(url: URL) -> str | None:
    admin = _admin_engine(url)
    try:
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
    finally:
        await admin.dispose()
    if not exists:
        return None
    return await _marker(url.render_as_string(hide_password=False))


async def _reset_postgres(url: URL) -> None:
    name = url.database or ""
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    admin = _admin_engine(url)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def reset_database(database_url: str) -> None:
    """An empty database at `database_url` (127.0.0.1 only), whatever it held."""
    check_loopback(database_url)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _reset_sqlite(url)
    else:
        await _reset_postgres(url)


async def drop_postgres_database(database_url: str) -> None:
    url = make_url(database_url)
    name = url.database or ""
    admin = _admin_engine(url)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


# The server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedApp:
    base_url: str
    pid: int

    def rss_bytes(self) -> int:
        """The server process's resident memory now (Linux /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise SystemExit(f"no VmRSS for process {self.pid}")


@contextlib.contextmanager
def served(
    database_url: str,
    *,
    start_timeout: float = 60.0,
    access_log: bool = False,
    environment: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The real app plus the bench's plain route (bench/http_server.py) under uvicorn in a
    subprocess on 127.0.0.1; yields its base URL and stops it on the way out. With
    `access_log`, it logs every request (its output is thrown away); `environment` adds
    variables (settings, OTEL_*)."""
    with served_process(
        database_url, start_timeout=start_timeout, access_log=access_log, environment=environment
    ) as app:
        yield app.base_url


@contextlib.contextmanager
def served_process(
    database_url: str,
    *,
    start_timeout: float = 60.0,
    access_log: bool = False,
    environment: Mapping[str, str] | None = None,
) -> Iterator[ServedApp]:
    """`served`, naming the server's process too (to watch its memory)."""
    check_loopback(database_url)
    port = free_port()
    command = [sys.executable, "-m", "bench.http_server", "--database-url", database_url]
    if access_log:
        command.append("--access-log")
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=REPO,
        env={**os.environ, **(environment or {})},
        stdout=subprocess.DEVNULL if access_log else None,
        stderr=subprocess.DEVNULL if access_log else None,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, process, start_timeout)
        yield ServedApp(base_url=base_url, pid=process.pid)
    finally:
        stop_process(process)


@contextlib.contextmanager
def served_api(database_url: str, *, workers: int, start_timeout: float = 120.0) -> Iterator[str]:
    """`jobmonitor serve --workers N` in a subprocess on 127.0.0.1 with the bench's settings
    (no tokens, no rate limit; the event bus as configured: LISTEN/NOTIFY on PostgreSQL),
    its output thrown away; yields its base URL."""
    check_loopback(database_url)
    port = free_port()
    kept = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("jobmonitor")), "serve", "--port", str(port)],
        cwd=REPO,
        env={
            **kept,
            "JOBMONITOR_DATABASE_URL": database_url,
            "JOBMONITOR_DEFAULT_TENANT": TENANT,
            "JOBMONITOR_AUTH": "disabled",
            "JOBMONITOR_RATE_LIMIT_PER_MINUTE": "0",
            "JOBMONITOR_WORKERS": str(workers),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, process, start_timeout)
        yield base_url
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the bench server exited with status {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"the bench server did not answer within {timeout:.0f} s")


def checked_json(response: httpx.Response) -> dict[str, object]:
    """The response's JSON document, after making sure it is a success without errors."""
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict) or document.get("errors"):
        raise SystemExit(f"request failed: {response.text[:500]}")
    return document


# In this process: the app over ASGI, or under uvicorn in this event loop --------------------


@contextlib.asynccontextmanager
async def over_asgi(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        yield client


@contextlib.asynccontextmanager
async def over_http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """uvicorn in this event loop on a free port of 127.0.0.1, one keep-alive connection."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, ws="none", loop="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base_url) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        listener.close()


# Timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How much one comparison may do: `runs` rounds after `warmup`, cut at `seconds`."""

    runs: int
    warmup: int
    seconds: float


async def interleave_async(
    cases: Mapping[str, Callable[[], Awaitable[object]]], budget: Budget
) -> dict[str, list[float]]:
    """Seconds per await of each case, the cases taking turns (rotating which goes first)
    so drift on this noisy machine hits them all alike; awaited one at a time."""
    names = list(cases)
    for _ in range(budget.warmup):
        for name in names:
            await cases[name]()
    timings: dict[str, list[float]] = {name: [] for name in names}
    deadline = time.monotonic() + budget.seconds
    for round_ in range(budget.runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            await cases[name]()
            timings[name].append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break
    return timings


def repeat(call: Callable[[], object], *, runs: int) -> list[float]:
    """Seconds per call of a fast synchronous function, measured `runs` times one by one."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


async def repeat_async(call: Callable[[], Awaitable[object]], *, runs: int) -> list[float]:
    """Seconds per await of a slow coroutine, measured `runs` times one by one."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return timings


@dataclass(frozen=True)
class Summary:
    runs: int
    median: float
    p95: float


def summarise(seconds: list[float]) -> Summary:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Summary(runs=len(ordered), median=statistics.median(ordered), p95=p95)


def report(
    title: str, timings: Mapping[str, list[float]], *, baseline: str | None = None
) -> dict[str, Summary]:
    """Prints runs, median, p95 and median / baseline's median for each case."""
    summaries = {name: summarise(seconds) for name, seconds in timings.items()}
    base = summaries[baseline].median if baseline is not None else None
    width = max(len(name) for name in summaries)
    say(f"\n{title}")
    header = f"  {'case':<{width}}  {'runs':>5}  {'median ms':>10}  {'p95 ms':>9}"
    say(header + (f"  x {baseline}" if baseline else ""))
    for name, summary in summaries.items():
        line = (
            f"  {name:<{width}}  {summary.runs:>5}  {summary.median * 1e3:>10.3f}"
            f"  {summary.p95 * 1e3:>9.3f}"
        )
        if base:
            line += f"  {summary.median / base:>6.2f}"
        say(line)
    return summaries


def say(line: str) -> None:
    """Print a figure: printing its figures is what a benchmark script is for."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# Arguments -------------------------------------------------------------------------------


def add_database_arguments(parser: argparse.ArgumentParser, *, jobs: int) -> None:
    parser.add_argument("--jobs", type=int, default=jobs, help="jobs in the database")
    parser.add_argument(
        "--detailed",
        type=int,
        default=100_000,
        help="jobs seeded by the product seeder with steps, events and logs; the rest are "
        "copies of their job rows (default: %(default)s)",
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default: %(default)s)",
    )
    parser.add_argument("--sqlite-path", type=Path, help="SQLite file (default under $TMPDIR)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL on 127.0.0.1 (default: jobmonitor_bench_<jobs> on 127.0.0.1:5432)",
    )
    parser.add_argument(
        "--reseed", action="store_true", help="seed again even when the marker matches"
    )
    parser.add_argument(
        "--drop", action="store_true", help="drop the PostgreSQL database afterwards"
    )


def database_urls(arguments: argparse.Namespace) -> dict[str, str]:
    """The URL of each backend asked for, by backend name."""
    urls: dict[str, str] = {}
    for backend in (name.strip() for name in str(arguments.backends).split(",")):
        if backend == "sqlite":
            path = arguments.sqlite_path
            urls[backend] = (
                f"sqlite+aiosqlite:///{path.resolve()}" if path else sqlite_url(arguments.jobs)
            )
        elif backend in {"postgresql", "postgres"}:
            urls["postgresql"] = arguments.database_url or postgres_url(arguments.jobs)
        else:
            raise SystemExit(f"unknown backend {backend!r}: use sqlite and/or postgresql")
    return urls


def add_budget_arguments(
    parser: argparse.ArgumentParser, *, runs: int, warmup: int, seconds: float
) -> None:
    parser.add_argument("--runs", type=int, default=runs, help="rounds per comparison")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed rounds first")
    parser.add_argument(
        "--max-seconds", type=float, default=seconds, help="time cap of one comparison"
    )


def budget_of(arguments: argparse.Namespace) -> Budget:
    return Budget(
        runs=int(arguments.runs), warmup=int(arguments.warmup), seconds=arguments.max_seconds
    )


def on_each_database(
    arguments: argparse.Namespace, subject: str, run: Callable[[str, str], None]
) -> None:
    """`run(backend, database_url)` on each database the arguments choose, seeded first (or
    reused when its seed matches), the PostgreSQL one dropped afterwards if `--drop` says so."""
    plan = SeedPlan(jobs=arguments.jobs, detailed=arguments.detailed)
    for backend, database_url in database_urls(arguments).items():
        say(f"\n=== {backend}: {subject}, {arguments.jobs:,} jobs ===")
        uvloop.run(prepare_database(database_url, plan, reseed=arguments.reseed))
        run(backend, database_url)
        if arguments.drop and backend == "postgresql":
            uvloop.run(drop_postgres_database(database_url))


def bench_parser(
    description: str | None, *, jobs: int, runs: int, warmup: int, seconds: float
) -> argparse.ArgumentParser:
    """The arguments every database bench takes: which databases with how many jobs, and the
    rounds of each comparison; a bench adds its own."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    add_database_arguments(parser, jobs=jobs)
    add_budget_arguments(parser, runs=runs, warmup=warmup, seconds=seconds)
    return parser

"""Live fan-out benchmark: status changes pushed to many websocket subscribers.

Run by hand: `.venv/bin/python -m bench.live_fanout` (needs Node.js; `npm ci` in bench/node).
Starts `jobmonitor serve` on 127.0.0.1 (a fresh SQLite file, or a fresh PostgreSQL database
for the replica figures), subscribers in a Node.js process of their own, and prints:

- latency from a status change (its `at`, stamped just before commit) to arrival at each
  subscriber, median and p99, at 1 000 and 5 000 subscribers of one operation;
- server memory per idle subscriber (RSS growth / subscribers);
- sustained status changes per second fanned out to 1 000 subscribers without falling behind;
- on PostgreSQL: the same change seen through a second replica (LISTEN/NOTIFY), added latency.

Everything stops by itself; nothing listens beyond 127.0.0.1.
"""

import argparse
import asyncio
import json
import os
import pstats
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from strawberry.relay import to_base64

from server.db import migrate
from server.db.models import Workflow
from server.domain.dispatch import DispatchRequest
from server.net import free_port
from server.runtime import Runtime
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / "node"
JOBMONITOR = Path(sys.executable).with_name("jobmonitor")
TENANT = "bench"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { status } } }"


@dataclass
class Server:
    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS"))
        return int(line.split()[1])


class Subscribers:
    """The Node.js process holding the websocket subscribers."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def report(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b"report\n")
        await self.process.stdin.drain()
        result: dict[str, Any] = json.loads(await self.process.stdout.readline())
        return result


@asynccontextmanager
async def serve(database_url: str) -> AsyncIterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": database_url,
        "JOBMONITOR_AUTH": "disabled",
        "JOBMONITOR_DEFAULT_TENANT": TENANT,
        "JOBMONITOR_RATE_LIMIT_PER_MINUTE": "0",
    }
    process = await asyncio.create_subprocess_exec(
        str(JOBMONITOR),
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    server = Server(port, process)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError(f"jobmonitor serve exited with {process.returncode}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield server
    finally:
        process.terminate()
        await process.wait()


@asynccontextmanager
async def subscribers(
    server: Server, count: int, cohorts: list[dict[str, Any] | None] | None = None
) -> AsyncIterator[Subscribers]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_DIR / "subscribers.mjs"),
        server.ws_url,
        str(count),
        json.dumps(cohorts or [None]),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 300))
        assert ready == {"ready": count}, ready
        await asyncio.sleep(1 + count / 2000)  # the last subscriptions reach the hub
        yield Subscribers(process)
    finally:
        process.kill()
        await process.wait()


async def prepare(database_url: str, jobs: int) -> list[int]:
    """A migrated database with one workflow and `jobs` pending jobs; their numbers."""
    runtime = Runtime.from_settings(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        await migrate.upgrade(runtime.engine)
        async with runtime.session_factory() as session, session.begin():
            session.add(
                Workflow(
                    tenant_id=TENANT,
                    slug="bench",
                    display_name="Bench",
                    aliases=[],
                    created_at=datetime.now(UTC),
                )
            )
        numbers = []
        for _ in range(jobs):
            job = await runtime.jobs.dispatch(
                tenant=TENANT, request=DispatchRequest(workflow="bench"), actor="bench"
            )
            numbers.append(job.number)
        return numbers
    finally:
        await runtime.close()


Write = Callable[[int], Coroutine[Any, Any, None]]
"""Cancels one job: the status change being fanned out."""


async def cancel(http: httpx.AsyncClient, number: int) -> None:
    body = {"query": CANCEL, "variables": {"id": to_base64("Job", number)}}
    response = await http.post("/graphql", json=body)
    assert response.json()["data"]["cancelJob"]["job"]["status"] == "CANCELLED", response.text


async def latency(
    writer: Server, reader: Server, count: int, jobs: list[int], events: int
) -> dict[str, Any]:
    """Changes made through `writer`, subscribers on `reader`."""
    rss_before = reader.rss_kib()
    async with (
        subscribers(reader, count) as clients,
        httpx.AsyncClient(base_url=writer.url) as http,
    ):
        idle_kib = (reader.rss_kib() - rss_before) / count
        await cancel(http, jobs.pop())  # warm-up: first execution, caches, pools
        await asyncio.sleep(2 + count / 1000)
        await clients.report()
        cpu = reader.cpu_seconds()
        for _ in range(events):
            await cancel(http, jobs.pop())
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        report = await clients.report()
        report["cpu_us"] = (reader.cpu_seconds() - cpu) / (count * events) * 1e6
    report["expected"] = count * events
    report["idle_kib_per_subscriber"] = round(idle_kib, 1)
    return report


async def throughput(
    server: Server, count: int, rates: list[int], jobs: list[int], write: Write
) -> None:
    """Changes at rising rates for a few seconds each, until delivery falls behind."""
    seconds = 4
    async with subscribers(server, count) as clients:
        await write(jobs.pop())
        await asyncio.sleep(2)
        await clients.report()
        for rate in rates:
            total = rate * seconds
            if len(jobs) < total:
                print(f"  {rate:>4}/s: not enough jobs left")
                return
            started = time.perf_counter()
            writes: list[asyncio.Task[None]] = []
            for index in range(total):
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                writes.append(asyncio.create_task(write(jobs.pop())))
            await asyncio.gather(*writes)
            achieved = total / (time.perf_counter() - started)
            await asyncio.sleep(2)
            report = await clients.report()
            kept_up = report["deliveries"] == total * count and report["p99"] < 1000
            print(
                f"  target {rate:>4}/s achieved {achieved:6.1f}/s: delivered "
                f"{report['deliveries']}/{total * count}, p50 {report['p50']:.0f} ms, "
                f"p99 {report['p99']:.0f} ms -> {'kept up' if kept_up else 'FELL BEHIND'}"
            )
            if not kept_up:
                return


async def worker_cancel(runtime: Runtime, number: int) -> None:
    await runtime.jobs.cancel(tenant=TENANT, number=number, actor="bench")


def show(title: str, report: dict[str, Any]) -> None:
    print(
        f"  {title}: {report['deliveries']}/{report['expected']} delivered, "
        f"p50 {report['p50']:.1f} ms, p99 {report['p99']:.1f} ms, max {report['max']:.1f} ms, "
        f"lost {report.get('lost', 0)}, idle {report['idle_kib_per_subscriber']} KiB/subscriber, "
        f"server CPU {report['cpu_us']:.0f} µs/delivery"
    )


async def on_sqlite(counts: list[int], events: int, rates: list[int]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        jobs = await prepare(url, (events + 1) * len(counts) + sum(rates) * 4 + 1)
        async with serve(url) as server:
            print("SQLite, one process (in-process bus):")
            for count in counts:
                show(f"{count} subscribers", await latency(server, server, count, jobs, events))
            print("sustained changes to 1000 subscribers, written through the API itself:")
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                await throughput(server, 1000, rates, jobs, partial(cancel, http))


async def on_postgres(count: int, events: int, rates: list[int]) -> None:
    name = f"jobmonitor_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        jobs = await prepare(url, (events + 1) * 2 + sum(rates) * 4 + 1)
        async with serve(url) as first, serve(url) as second:
            print(f"PostgreSQL, two replicas (LISTEN/NOTIFY), {count} subscribers:")
            same = await latency(first, first, count, jobs, events)
            show("change and subscribers on one replica", same)
            other = await latency(first, second, count, jobs, events)
            show("change on replica 1, subscribers on replica 2", other)
            print(
                f"  added by the second replica: p50 {other['p50'] - same['p50']:+.1f} ms, "
                f"p99 {other['p99'] - same['p99']:+.1f} ms"
            )
            print("sustained changes to 1000 subscribers, written by another process (a worker):")
            worker = Runtime.from_settings(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
            try:
                await throughput(first, 1000, rates, jobs, partial(worker_cancel, worker))
            finally:
                await worker.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


COHORTS: list[dict[str, Any] | None] = [
    None,
    {"status": ["RUNNING"]},
    {"status": ["COMPLETED", "FAILED", "CANCELLED"]},
    {"workflow": ["hello"]},
]
"""Four filters, so four cohorts: every status change, jobs starting, jobs ending, one workflow."""
DISPATCH = (
    "mutation($input: DispatchJobInput!) {"
    " dispatchJob(input: $input) { job { number } errors { message } } }"
)
OPEN = "{ jobCounts { scheduled pending running waiting paused } }"
HELLO = {"workflow": "hello", "input": {"name": "fan-out"}}
PROBE_DIR = ROOT / "bench" / "probe"
GC_LOG = "gc-pauses.log"
PROFILE = "fanout.prof"
METRICS_TOKEN = uuid.uuid4().hex
LAG = "jobmonitor_live_fanout_lag_seconds_bucket"


@asynccontextmanager
async def dev(directory: Path) -> AsyncIterator[Server]:
    """`jobmonitor dev` in `directory`: SQLite, its Temporal dev server, the worker, one agent
    and the API in one process tree, as a person runs it."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    ports = ["--temporal-port", str(free_port()), "--temporal-ui-port", str(free_port())]
    process = await asyncio.create_subprocess_exec(
        str(JOBMONITOR),
        "dev",
        "--port",
        str(port),
        *ports,
        cwd=directory,
        env={
            **env,
            "JOBMONITOR_RATE_LIMIT_PER_MINUTE": "0",
            "JOBMONITOR_METRICS_TOKEN": METRICS_TOKEN,
            "PYTHONPATH": str(PROBE_DIR),
            "BENCH_GC_LOG": str(directory / GC_LOG),
            "BENCH_PROFILE": str(directory / PROFILE),
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    server = Server(port, process)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            await _until_healthy(http, process, seconds=180)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()


async def _until_healthy(
    http: httpx.AsyncClient, process: asyncio.subprocess.Process, *, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"jobmonitor exited with {process.returncode}")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"jobmonitor did not answer within {seconds} s")


async def dispatch_jobs(http: httpx.AsyncClient, count: int, rate: float) -> None:
    """`count` real jobs (the `hello` example: two steps on the local agent) at `rate` a
    second, then wait until none is open."""
    started = time.perf_counter()
    for index in range(count):
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        body = {"query": DISPATCH, "variables": {"input": HELLO}}
        answer = (await http.post("/graphql", json=body)).json()["data"]["dispatchJob"]
        assert not answer["errors"], answer
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        counts = (await http.post("/graphql", json={"query": OPEN})).json()["data"]["jobCounts"]
        if not any(counts.values()):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("jobs still open after 300 s")


async def _lag_buckets(http: httpx.AsyncClient) -> dict[float, float]:
    """The live hub's lag histogram (from a change's `at` to the hub handing it over):
    cumulative counts by upper bound."""
    text = (await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(LAG):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def _print_profile(path: Path, top: int = 14) -> None:
    """The event loop's own time by function while the jobs ran, largest first."""
    for _ in range(50):
        if path.exists():
            break
        time.sleep(0.1)
    stats = pstats.Stats(str(path))
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in table.values())
    print(f"    the event loop's thread: {total:.1f} s of CPU; own time by function:")
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (file, line, name), (_, calls, own, _, _) in ranked:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        print(f"      {own / total:6.1%}  {calls:>9}  {name}  ({where})")
    path.unlink()


def _gc_pauses(log: Path) -> list[tuple[float, int]]:
    """The pauses the server's probe logged, (milliseconds, generation) shortest first; the
    log is emptied."""
    lines = log.read_text().splitlines() if log.exists() else []
    log.write_text("")
    return sorted((float(ms), int(generation)) for generation, ms in map(str.split, lines))


def _minus(after: dict[float, float], before: dict[float, float]) -> dict[float, float]:
    return {bound: count - before.get(bound, 0.0) for bound, count in after.items()}


def _quantiles(buckets: dict[float, float]) -> str:
    """p50 and p99 as the histogram's bucket bounds that hold them."""
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return "no changes"

    def bound(share: float) -> str:
        edge = next(le for le, count in sorted(buckets.items()) if count >= share * total)
        return f"<= {edge * 1e3:.0f} ms"

    return f"p50 {bound(0.5)}, p99 {bound(0.99)} ({total:.0f} changes)"


async def real_jobs(
    server: Server, count: int, jobs: int, rate: float, gc_log: Path
) -> dict[str, Any]:
    """Subscribers in the four cohorts while real jobs run; figures of the jobs' changes."""
    rss_before = server.rss_kib()
    async with (
        subscribers(server, count, COHORTS) as clients,
        httpx.AsyncClient(base_url=server.url, timeout=60) as http,
    ):
        idle_kib = (server.rss_kib() - rss_before) / count
        await dispatch_jobs(http, 1, rate)  # warm-up: first run of each cohort's query
        await asyncio.sleep(2)
        await clients.report()
        cpu = server.cpu_seconds()
        lag_before = await _lag_buckets(http)
        _gc_pauses(gc_log)  # from here on
        server.process.send_signal(signal.SIGUSR1)
        await dispatch_jobs(http, jobs, rate)
        await asyncio.sleep(2)
        server.process.send_signal(signal.SIGUSR2)
        report = await clients.report()
        report["cpu_us"] = (server.cpu_seconds() - cpu) / max(report["deliveries"], 1) * 1e6
        report["hub_lag"] = _quantiles(_minus(await _lag_buckets(http), lag_before))
        report["gc_pauses"] = _gc_pauses(gc_log)
    report["expected"] = report["deliveries"] + report["lost"]
    report["idle_kib_per_subscriber"] = round(idle_kib, 1)
    return report


async def on_dev(counts: list[int], jobs: int, rate: float) -> None:
    """Each count on a `jobmonitor dev` of its own, so memory freed by the last count does not
    hide what the next one takes."""
    print(
        f"jobmonitor dev (SQLite, Temporal dev server, worker and agent in the same process "
        f"tree), {len(COHORTS)} cohorts, {jobs} real jobs at {rate}/s:"
    )
    for count in counts:
        with tempfile.TemporaryDirectory() as directory:
            async with dev(Path(directory)) as server:
                report = await real_jobs(server, count, jobs, rate, Path(directory) / GC_LOG)
                show(f"{count} subscribers", report)
                print(
                    f"    where the time goes: first arrival of an event (commit, hub, query, "
                    f"serialisation) p50 {report['first_p50']:.1f} / p99 "
                    f"{report['first_p99']:.1f} ms; first to last arrival in a cohort (the "
                    f"send loop) p50 {report['spread_p50']:.1f} / p99 {report['spread_p99']:.1f} ms"
                )
                print(f"    the hub's lag from `at` to handing a change over: {report['hub_lag']}")
                _print_profile(Path(directory) / PROFILE)
                pauses = report["gc_pauses"]
                longest = [f"{ms:.0f} ms (gen {gen})" for ms, gen in pauses[-3:]]
                print(
                    f"    garbage collections pausing the server over 5 ms: {len(pauses)}, "
                    f"longest {longest}"
                )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000", help="subscriber counts")
    parser.add_argument("--events", type=int, default=20, help="status changes per count")
    parser.add_argument("--rates", default="25,50,100,200,400", help="changes/s to try")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--dev",
        default="",
        help="subscriber counts on `jobmonitor dev` with real jobs, e.g. 5000,10000 "
        "(then nothing else runs)",
    )
    parser.add_argument("--jobs", type=int, default=20, help="real jobs per count (--dev)")
    parser.add_argument("--rate", type=float, default=2.0, help="real jobs a second (--dev)")
    args = parser.parse_args()
    if args.dev:
        await on_dev([int(count) for count in args.dev.split(",")], args.jobs, args.rate)
        return
    counts = [int(count) for count in args.counts.split(",")]
    rates = [int(rate) for rate in args.rates.split(",")]
    await on_sqlite(counts, args.events, rates)
    if not args.skip_postgres:
        await on_postgres(1000, args.events, rates)


if __name__ == "__main__":
    asyncio.run(main())

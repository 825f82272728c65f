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
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
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
async def subscribers(server: Server, count: int) -> AsyncIterator[Subscribers]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_DIR / "subscribers.mjs"),
        server.ws_url,
        str(count),
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


Write = Callable[[int], Awaitable[None]]
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
            writes = []
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
        f"idle {report['idle_kib_per_subscriber']} KiB/subscriber, "
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000", help="subscriber counts")
    parser.add_argument("--events", type=int, default=20, help="status changes per count")
    parser.add_argument("--rates", default="25,50,100,200,400", help="changes/s to try")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    counts = [int(count) for count in args.counts.split(",")]
    rates = [int(rate) for rate in args.rates.split(",")]
    await on_sqlite(counts, args.events, rates)
    if not args.skip_postgres:
        await on_postgres(1000, args.events, rates)


if __name__ == "__main__":
    asyncio.run(main())

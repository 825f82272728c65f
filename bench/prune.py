"""Pruning under load: `jobmonitor prune`'s deletion of ~100 000 old finished jobs (with their
steps, events and ten log lines each) while clients keep reading the Jobs page from the real
app in a subprocess. Reports the longest write lock (the longest batch transaction: a batch's
locks are held from its first statement to its commit) and the page's latency before and
during the prune, as a ratio (the baseline is the same readers in the same run, just before).

    .venv/bin/python -m bench.prune              # 220 000 jobs over 220 days, both backends
    .venv/bin/python -m bench.prune --backends postgresql --readers 8
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable
from datetime import timedelta

import httpx
import uvloop

from server.runtime import Runtime

from .common import (
    DATA_DIR,
    HORIZON,
    PAGE_QUERY,
    POSTGRES_SERVER,
    ServedApp,
    bench_settings,
    checked_json,
    drop_postgres_database,
    say,
    served_process,
)
from .synthetic import seed_synthetic


async def read_pages(app: ServedApp, stop: asyncio.Event, latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=app.base_url, timeout=60) as http:
        while not stop.is_set():
            started = time.perf_counter()
            checked_json(await http.post("/graphql", json={"query": PAGE_QUERY}))
            latencies.append(time.perf_counter() - started)


async def under_load(app: ServedApp, readers: int, work: Awaitable[object]) -> list[float]:
    """The readers' latencies while `work` runs."""
    stop = asyncio.Event()
    latencies: list[float] = []
    tasks = [asyncio.create_task(read_pages(app, stop, latencies)) for _ in range(readers)]
    try:
        await work
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return latencies


async def run(database_url: str, *, jobs: int, days: int, readers: int, quiet: float) -> None:
    await seed_synthetic(database_url, jobs=jobs, days=days, details=True)
    runtime = Runtime.from_settings(bench_settings(database_url))
    before = HORIZON - timedelta(days=days // 2)
    try:
        counted = await runtime.deletion.prune(before=before, dry_run=True, actor="bench")
        with served_process(database_url) as app:
            alone = await under_load(app, readers, asyncio.ensure_future(asyncio.sleep(quiet)))
            started = time.perf_counter()
            pruning = asyncio.ensure_future(
                runtime.deletion.prune(before=before, dry_run=False, actor="bench")
            )
            during = await under_load(app, readers, pruning)
            seconds = time.perf_counter() - started
            report = pruning.result()
    finally:
        await runtime.close()
    if report.deleted != counted.deleted:
        raise SystemExit(f"pruned {report.deleted} jobs, the dry run counted {counted.deleted}")
    say(
        f"  pruned {report.deleted:,} jobs in {seconds:.1f} s ({report.deleted / seconds:,.0f}/s), "
        f"{report.batches} batches; longest write lock (batch) "
        f"{report.longest_batch_seconds * 1000:.0f} ms"
    )
    say(f"  page latency with {readers} readers   median    p95     p99     max   (ms)")
    for name, values in (("before (baseline)", alone), ("during the prune", during)):
        ordered = sorted(values)
        figures = [
            statistics.median(ordered),
            *(_quantile(ordered, q) for q in (0.95, 0.99)),
            ordered[-1],
        ]
        line = "  ".join(f"{value * 1000:7.1f}" for value in figures)
        say(f"  {name:<28} {line}   ({len(values)} pages)")
    ratio = statistics.median(during) / statistics.median(alone)
    say(f"  median during / before: {ratio:.2f}x")


def _quantile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=220_000)
    parser.add_argument("--days", type=int, default=220)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--quiet-seconds", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    arguments = parser.parse_args()
    urls = {
        "sqlite": f"sqlite+aiosqlite:///{DATA_DIR / 'prune.db'}",
        "postgresql": f"{POSTGRES_SERVER}/jobmonitor_bench_prune",
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for backend in (name.strip() for name in arguments.backends.split(",")):
        say(
            f"\n{backend}: {arguments.jobs:,} jobs over {arguments.days} days, "
            "the older half pruned"
        )
        uvloop.run(
            run(
                urls[backend],
                jobs=arguments.jobs,
                days=arguments.days,
                readers=arguments.readers,
                quiet=arguments.quiet_seconds,
            )
        )
        if backend == "postgresql":
            asyncio.run(drop_postgres_database(urls[backend]))


if __name__ == "__main__":
    main()

"""Log export: one job's 1 000 000 log lines downloaded from `GET /jobs/{number}/logs` (JSON
lines and text) from the real app in a subprocess, against the baseline of reading the same
rows in this process with the export's own batched reads and nothing else (no encoding, no
HTTP). Reports time per 100 000 lines and the server's resident memory at 10 %, 50 % and
100 % of the download: flat memory is what streaming promises.

    .venv/bin/python -m bench.log_export                        # 1 000 000 lines, both backends
    .venv/bin/python -m bench.log_export --lines 200000 --backends sqlite
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import uvloop
from sqlalchemy import insert

from server.db import migrate
from server.db.models import Job, LogLine, Workflow
from server.domain.enums import JobStatus, LogStream
from server.reads.log_export import LogSelection, exported_lines
from server.runtime import Runtime

from .common import (
    DATA_DIR,
    POSTGRES_SERVER,
    TENANT,
    ServedApp,
    bench_settings,
    drop_postgres_database,
    reset_database,
    say,
    served_process,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
INSERT_BATCH = 20_000
PER = 100_000


async def seed(database_url: str, lines: int) -> int:
    """A fresh database holding one job with `lines` log lines; answers its number."""
    await reset_database(database_url)
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        await migrate.upgrade(runtime.engine)
        async with runtime.session_factory() as session, session.begin():
            workflow = Workflow(
                tenant_id=TENANT, slug="export", display_name="Export", aliases=[], created_at=START
            )
            session.add(workflow)
            await session.flush()
            job = Job(
                tenant_id=TENANT,
                workflow_id=workflow.id,
                status=JobStatus.COMPLETED,
                created_at=START,
                input={},
            )
            session.add(job)
            await session.flush()
            number = job.number
        streams = list(LogStream)
        started = time.perf_counter()
        for first in range(1, lines + 1, INSERT_BATCH):
            async with runtime.session_factory() as session, session.begin():
                await session.execute(
                    insert(LogLine),
                    [
                        {
                            "tenant_id": TENANT,
                            "job_number": number,
                            "sequence": n,
                            "step": n % 5,
                            "attempt": 1,
                            "stream": streams[n % 3],
                            "message": f"step output line {n}: " + "x" * 60,
                            "at": START + timedelta(milliseconds=n),
                        }
                        for n in range(first, min(first + INSERT_BATCH, lines + 1))
                    ],
                )
        say(f"seeded {lines:,} log lines in {time.perf_counter() - started:.1f} s")
        return number
    finally:
        await runtime.close()


async def download(
    app: ServedApp, number: int, log_format: str, lines: int
) -> tuple[float, list[int]]:
    """Seconds to download the whole log, and the server's RSS at 10 %, 50 % and 100 %."""
    marks = [lines // 10, lines // 2, lines]
    memory: list[int] = []
    seen = 0
    started = time.perf_counter()
    async with (
        httpx.AsyncClient(base_url=app.base_url, timeout=600) as http,
        http.stream("GET", f"/jobs/{number}/logs", params={"format": log_format}) as response,
    ):
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            seen += chunk.count(b"\n")
            while marks and seen >= marks[0]:
                memory.append(app.rss_bytes())
                marks.pop(0)
    seconds = time.perf_counter() - started
    if seen != lines:
        raise SystemExit(f"downloaded {seen} lines, expected {lines}")
    return seconds, memory


async def read_only(database_url: str, number: int, lines: int) -> float:
    """The baseline: the export's batched reads alone."""
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        seen = 0
        started = time.perf_counter()
        async for rows in exported_lines(
            runtime.read_session_factory, job_number=number, selection=LogSelection()
        ):
            seen += len(rows)
        seconds = time.perf_counter() - started
    finally:
        await runtime.close()
    if seen != lines:
        raise SystemExit(f"read {seen} lines, expected {lines}")
    return seconds


async def run(backend: str, database_url: str, lines: int, runs: int) -> None:
    number = await seed(database_url, lines)
    with served_process(database_url) as app:
        idle = app.rss_bytes()
        timings: dict[str, list[float]] = {"read only (baseline)": [], "jsonl": [], "text": []}
        memory: dict[str, list[int]] = {}
        for round_ in range(runs):
            names = list(timings)
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                if name == "read only (baseline)":
                    timings[name].append(await read_only(database_url, number, lines))
                    continue
                seconds, rss = await download(app, number, name, lines)
                timings[name].append(seconds)
                memory[name] = [max(a, b) for a, b in zip(memory.get(name, rss), rss, strict=True)]
    base = min(timings["read only (baseline)"])
    say(f"\n{backend}: {lines:,} lines, best of {runs}; server RSS idle {idle / 2**20:.0f} MiB")
    say(f"  {'case':<22} {'s per 100k':>10} {'x baseline':>10}   RSS MiB at 10% / 50% / 100%")
    for name, seconds in timings.items():
        best = min(seconds)
        line = f"  {name:<22} {best * PER / lines:>10.3f} {best / base:>10.2f}"
        if name in memory:
            line += "   " + " / ".join(f"{value / 2**20:.0f}" for value in memory[name])
        say(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    arguments = parser.parse_args()
    urls = {
        "sqlite": f"sqlite+aiosqlite:///{DATA_DIR / 'log-export.db'}",
        "postgresql": f"{POSTGRES_SERVER}/jobmonitor_bench_log_export",
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for backend in arguments.backends.split(","):
        url = urls[backend.strip()]
        uvloop.run(run(backend, url, arguments.lines, arguments.runs))
        if backend == "postgresql" and not arguments.keep:
            asyncio.run(drop_postgres_database(url))


if __name__ == "__main__":
    main()

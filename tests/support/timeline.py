"""Session fixtures of the timeline tests: a worker running the probe workflow on the dev server
of `tests.temporal_support`.

Job numbers are drawn at random from a range the database factories never reach, so the
SQLite and PostgreSQL halves of the suite can share one Temporal server.
"""

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from server.db.models import pipeline_id
from server.runtime import Runtime
from server.settings import Settings
from server.temporal.contracts import JobRef
from server.timeline.sources import TimelineSources
from tests.support.timeline_probe import PROBE_WORKFLOW, ProbeActivities, TimelineProbe
from tests.support.timeline_rpc import RpcLog, recording_rpcs

NUMBER_FLOOR = 1_000_000_000
LOOKUP_SECONDS = 10.0


def unique_number() -> int:
    return NUMBER_FLOOR + secrets.randbelow(NUMBER_FLOOR)


@dataclass
class Probe:
    client: Client
    task_queue: str
    activities: ProbeActivities

    async def start(
        self, commands: list[str], *, number: int | None = None
    ) -> WorkflowHandle[TimelineProbe, str]:
        """Starts a probe job (workflow id `pipeline-job-N`) whose steps run `commands`."""
        number = unique_number() if number is None else number
        self.activities.scripts[number] = commands
        return await self.client.start_workflow(
            PROBE_WORKFLOW,
            JobRef("probe", number),
            id=pipeline_id(number),
            task_queue=self.task_queue,
            result_type=str,
        )

    async def run(
        self, commands: list[str], *, number: int | None = None
    ) -> WorkflowHandle[TimelineProbe, str]:
        """Like `start`, and waits until the job's workflow has ended (a failed job fails it)."""
        handle = await self.start(commands, number=number)
        with contextlib.suppress(WorkflowFailureError):
            await handle.result()
        return handle


@pytest.fixture(scope="session")
async def probe(temporal_client: Client) -> AsyncIterator[Probe]:
    client = temporal_client
    activities = ProbeActivities()
    task_queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=task_queue, workflows=[TimelineProbe], activities=activities.all()
    ):
        yield Probe(client, task_queue, activities)


def with_timeline(runtime: Runtime, **settings: Any) -> Runtime:
    """`runtime` reading timelines from Temporal with `settings`, with caches of its own."""
    changed: Settings = runtime.settings.model_copy(update=settings)
    return replace(runtime, settings=changed, timeline=TimelineSources.from_settings(changed))


@pytest.fixture
def timeline_runtime(runtime: Runtime, temporal_address: str) -> Runtime:
    """Timelines from the dev server, with a lookup timeout no busy machine reaches (the tests
    of the timeout set their own)."""
    return with_timeline(
        runtime, temporal_address=temporal_address, temporal_lookup_timeout=LOOKUP_SECONDS
    )


@pytest.fixture
async def timeline_rpcs(timeline_runtime: Runtime) -> AsyncIterator[RpcLog]:
    """The calls of the runtime's timeline client while the test runs."""
    assert timeline_runtime.timeline is not None
    with recording_rpcs(await timeline_runtime.timeline.gateway.client()) as log:
        yield log

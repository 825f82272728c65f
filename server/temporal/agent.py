"""The reference agent: a worker on its own task queue that runs step commands.

It registers itself with the slots and workflows it declares, then heartbeats: status ONLINE
or BUSY and `lastSeenAt`, and OFFLINE when it stops. Each heartbeat (and its start) also hands
out free slots to waiting jobs, so a job never waits longer than a heartbeat for a free agent
even if a wake-up was lost.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from server.domain.enums import AgentStatus
from server.services.artifacts import ArtifactService
from server.services.execution import ExecutionService
from server.services.queue import QueueService

from .agent_activities import AgentActivities
from .contracts import agent_task_queue
from .waker import JobWaker

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True)
class AgentIdentity:
    tenant: str
    name: str
    hostname: str | None
    base_task_queue: str
    workspace_root: Path
    shutdown_grace: timedelta = timedelta(seconds=5)
    """How long a running step may go on once the agent is told to stop; then it is handed
    back, to run again when the agent is back."""
    slots: int = 1
    workflows: tuple[str, ...] = ()
    """The workflow slugs it runs; empty means any."""

    @property
    def task_queue(self) -> str:
        return agent_task_queue(self.base_task_queue, tenant=self.tenant, agent=self.name)


@dataclass(frozen=True)
class AgentServices:
    """What an agent writes through: the job's records, and the queue's slots."""

    execution: ExecutionService
    queue: QueueService
    artifacts: ArtifactService


@asynccontextmanager
async def running_agent(
    client: Client, services: AgentServices, identity: AgentIdentity
) -> AsyncIterator[AgentActivities]:
    """The agent online until the block ends, then OFFLINE."""
    if identity.slots < 1:
        raise ValueError(f"an agent needs at least one slot (got {identity.slots})")
    activities = AgentActivities(
        services.execution,
        services.artifacts,
        agent_name=identity.name,
        workspace_root=identity.workspace_root,
    )
    worker = Worker(
        client,
        task_queue=identity.task_queue,
        activities=activities.all(),
        graceful_shutdown_timeout=identity.shutdown_grace,
    )
    waker = JobWaker(client, base_task_queue=identity.base_task_queue)
    stop = asyncio.Event()
    async with worker:
        await _seen(services, identity, AgentStatus.ONLINE)
        await _hand_out(services, identity, waker)
        heartbeat = asyncio.create_task(_heartbeat(services, identity, waker, stop))
        try:
            yield activities
        finally:
            stop.set()
            await heartbeat
            await _seen(services, identity, AgentStatus.OFFLINE)


async def _heartbeat(
    services: AgentServices, identity: AgentIdentity, waker: JobWaker, stop: asyncio.Event
) -> None:
    """`lastSeenAt` every few seconds until `stop` is set (never cut off mid-write)."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
        if stop.is_set():
            return
        try:
            await _seen(services, identity, None)
            await _hand_out(services, identity, waker)
        except Exception:
            log.exception("agent %s: heartbeat failed", identity.name)


async def _hand_out(services: AgentServices, identity: AgentIdentity, waker: JobWaker) -> None:
    await waker.wake(await services.queue.assign(tenant=identity.tenant))


async def _seen(
    services: AgentServices, identity: AgentIdentity, status: AgentStatus | None
) -> None:
    await services.execution.agent_seen(
        tenant=identity.tenant,
        name=identity.name,
        hostname=identity.hostname,
        status=status,
        slots=identity.slots,
        workflows=identity.workflows,
    )

"""The reference agent: a worker on its own task queue that runs step commands.

It registers itself, then heartbeats: status ONLINE or BUSY and `lastSeenAt`, and OFFLINE
when it stops.
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
from server.services.execution import ExecutionService

from .agent_activities import AgentActivities
from .contracts import agent_task_queue

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

    @property
    def task_queue(self) -> str:
        return agent_task_queue(self.base_task_queue, tenant=self.tenant, agent=self.name)


@asynccontextmanager
async def running_agent(
    client: Client, execution: ExecutionService, identity: AgentIdentity
) -> AsyncIterator[AgentActivities]:
    """The agent online until the block ends, then OFFLINE."""
    activities = AgentActivities(
        execution, agent_name=identity.name, workspace_root=identity.workspace_root
    )
    worker = Worker(
        client,
        task_queue=identity.task_queue,
        activities=[activities.setup_agent, activities.run_and_monitor, activities.teardown],
        graceful_shutdown_timeout=identity.shutdown_grace,
    )
    await _seen(execution, identity, AgentStatus.ONLINE)
    stop = asyncio.Event()
    heartbeat = asyncio.create_task(_heartbeat(execution, identity, stop))
    try:
        async with worker:
            yield activities
    finally:
        stop.set()
        await heartbeat
        await _seen(execution, identity, AgentStatus.OFFLINE)


async def _heartbeat(
    execution: ExecutionService, identity: AgentIdentity, stop: asyncio.Event
) -> None:
    """`lastSeenAt` every few seconds until `stop` is set (never cut off mid-write)."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
        if stop.is_set():
            return
        try:
            await _seen(execution, identity, None)
        except Exception:
            log.exception("agent %s: heartbeat failed", identity.name)


async def _seen(
    execution: ExecutionService, identity: AgentIdentity, status: AgentStatus | None
) -> None:
    await execution.agent_seen(
        tenant=identity.tenant, name=identity.name, hostname=identity.hostname, status=status
    )

"""Waking the workflows of jobs that got a slot: the `assigned` signal, sent after commit."""

import asyncio
import logging
from collections.abc import Sequence

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from server.db.models import pipeline_id
from server.services.queue import Assigned

from .contracts import ASSIGNED_SIGNAL, Assignment, agent_task_queue

log = logging.getLogger(__name__)
# Signals in flight at once when many jobs get a slot together.
CONCURRENT_WAKES = 16


class JobWaker:
    def __init__(self, client: Client, *, base_task_queue: str) -> None:
        self._client = client
        self._base_task_queue = base_task_queue
        self._limit = asyncio.Semaphore(CONCURRENT_WAKES)

    def assignment(self, tenant: str, agent_name: str) -> Assignment:
        return Assignment(
            agent_name, agent_task_queue(self._base_task_queue, tenant=tenant, agent=agent_name)
        )

    async def wake(self, assigned: Sequence[Assigned]) -> None:
        """Signal each job's workflow. A workflow not started yet needs no signal: its claim
        will find the slot. Any other failure is logged: the job keeps its slot and the next
        hand-out of its tenant (an agent's heartbeat at the latest) wakes it again."""
        await asyncio.gather(*(self._wake_one(item) for item in assigned))

    async def _wake_one(self, item: Assigned) -> None:
        handle = self._client.get_workflow_handle(pipeline_id(item.job_number))
        async with self._limit:
            try:
                await handle.signal(ASSIGNED_SIGNAL, self.assignment(item.tenant, item.agent_name))
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    log.warning("job #%s: could not wake it: %s", item.job_number, error.message)

"""The floor under the queue bench: what Temporal and its SDK cost alone for the same jobs.

A workflow of the job workflow's shape for a two-step job, with activities that do nothing:
Init's three control-plane activities (local), Agent Setup's three and the two step attempts on
an agent's task queue, then Teardown (a local collect, the clean-up on the agent, a local record
of the end). No database and no queue: each job goes to one of the agents' task queues in turn,
and an agent's worker runs at most its slots of activities at once. Workflows are started
directly (no outbox). The queue bench's figures divided by this one's say what jobmonitor's
own work costs on top of Temporal, measured in the same run.
"""

import asyncio
import time
import uuid
from contextlib import AsyncExitStack
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

CONTROL = ("validate_input", "claim_agent", "record_start")
SETUP = ("check_agent", "prepare_workspace", "hand_over_definition")
STEPS = 2
TIMEOUT = timedelta(seconds=60)


@activity.defn(name="floor_noop")
async def noop(name: str) -> str:
    return name


@workflow.defn(name="FloorJob")
class FloorJob:
    @workflow.run
    async def run(self, agent_queue: str) -> None:
        for name in CONTROL:
            await self._local(name)
        for name in (*SETUP, *(f"step-{index}" for index in range(STEPS))):
            await self._on_agent(name, agent_queue)
        await self._local("collect_outputs")
        await self._on_agent("clean_workspace", agent_queue)
        await self._local("record_end")

    async def _local(self, name: str) -> None:
        await workflow.execute_local_activity(noop, name, start_to_close_timeout=TIMEOUT)

    async def _on_agent(self, name: str, queue: str) -> None:
        await workflow.execute_activity(
            noop, name, task_queue=queue, start_to_close_timeout=TIMEOUT
        )


async def floor_seconds(client: Client, *, jobs: int, agents: int, slots: int) -> float:
    """Seconds from the first start to the last of `jobs` floor workflows ended."""
    base = f"floor-{uuid.uuid4().hex[:6]}"
    queues = [f"{base}.agent-{index}" for index in range(agents)]
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            Worker(client, task_queue=base, workflows=[FloorJob], activities=[noop])
        )
        for queue in queues:
            await stack.enter_async_context(
                Worker(client, task_queue=queue, activities=[noop], max_concurrent_activities=slots)
            )
        gate = asyncio.Semaphore(16)

        async def one(index: int) -> None:
            async with gate:
                handle = await client.start_workflow(
                    FloorJob.run,
                    queues[index % agents],
                    id=f"{base}-{index}",
                    task_queue=base,
                )
            await handle.result()

        started = time.perf_counter()
        await asyncio.gather(*(one(index) for index in range(jobs)))
        return time.perf_counter() - started

"""The queue's hand-out without Temporal: slots go to the oldest waiting job an agent may run,
however far down the queue it is."""

from datetime import UTC, datetime

from server.runtime import Runtime
from server.services.queue import HAND_OUT_PAGE, Assigned
from tests.support.factories import build_world


async def test_a_free_slot_reaches_a_job_behind_more_than_a_page_of_jobs_it_cannot_take(
    runtime: Runtime, tenant: str
) -> None:
    # given more than a page of waiting jobs no agent runs, then two that one agent runs
    now = datetime.now(UTC)
    waiting = {"status": "PENDING", "queued_at": now}
    unrunnable = [{**waiting, "workflow": "se-rca-fix"}] * (HAND_OUT_PAGE + 5)
    runnable = [{**waiting, "workflow": "code-review"}] * 2
    world = await build_world(runtime.session_factory, tenant, [*unrunnable, *runnable])
    await runtime.execution.agent_seen(
        tenant=tenant, name="agent-01", hostname=None, slots=1, workflows=["code-review"]
    )

    # when the free slots are handed out
    assigned = await runtime.queue.assign(tenant=tenant)

    # then the only free slot goes to the oldest job its agent runs
    first_runnable = world.jobs[len(unrunnable)].number
    assert assigned == [Assigned(tenant, first_runnable, "agent-01")]

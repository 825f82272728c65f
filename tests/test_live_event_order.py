"""Status events commit in sequence order, so a reader that follows the table by sequence
(the live hub's tail) never passes an event still in flight."""

import asyncio

from sqlalchemy import select

from server.db.models import Job, JobEvent
from server.domain.enums import JobStatus
from server.runtime import Runtime
from server.services import state_machine
from server.services.unit_of_work import unit_of_work
from tests.support.jobs import cancel_job, dispatch_job, given_workflows

HELD_SECONDS = 0.5


async def test_a_second_status_change_waits_for_the_first_to_commit(
    runtime: Runtime, tenant: str
) -> None:
    # given a transaction that wrote a status event and has not committed yet, and a job of
    # another tenant (nothing else, such as the tenant's counts, is shared between the two)
    other_tenant = f"{tenant}-other"
    await given_workflows(runtime, tenant)
    await given_workflows(runtime, other_tenant)
    first, second = await dispatch_job(runtime, tenant), await dispatch_job(runtime, other_tenant)
    written, release = asyncio.Event(), asyncio.Event()

    async def slow_cancel() -> int:
        async with unit_of_work(runtime.session_factory, runtime.bus) as work:
            job = await work.session.get_one(Job, first.number)
            event = await state_machine.transition(work, job, JobStatus.CANCELLED, actor="a")
            written.set()
            await release.wait()
            return event.sequence

    held = asyncio.create_task(slow_cancel())
    await written.wait()

    # when another job changes status meanwhile
    other = asyncio.create_task(cancel_job(runtime, other_tenant, second.number))
    await asyncio.sleep(HELD_SECONDS)

    # then it waits for the first commit, and its event comes after the first one
    assert not other.done()
    release.set()
    first_sequence = await held
    await other
    async with runtime.session_factory() as session:
        second_sequence = await session.scalar(
            select(JobEvent.sequence).where(
                JobEvent.job_number == second.number, JobEvent.to_status == JobStatus.CANCELLED
            )
        )
    assert second_sequence is not None
    assert second_sequence > first_sequence

"""jobStatusChanged over a real uvicorn socket, in both websocket protocols."""

import asyncio

import pytest
from sqlalchemy import select

from server.db.models import JobEvent
from server.runtime import Runtime
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.live import streams_registered
from tests.support.servers import LiveServer
from tests.support.websocket import PROTOCOLS, graphql_ws

STATUS_CHANGED = """
subscription Changed($filter: JobFilter, $after: Int) {
  jobStatusChanged(filter: $filter, after: $after) {
    sequence previousStatus status at
    job { number status workflow { slug } }
  }
}
"""

pytestmark = pytest.mark.parametrize("protocol", PROTOCOLS)


async def test_a_status_change_reaches_matching_subscribers_and_not_others(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given two subscribers, each watching one workflow
    await given_workflows(runtime, tenant)
    async with (
        graphql_ws(live_server.ws_url, protocol) as fixes,
        graphql_ws(live_server.ws_url, protocol) as reviews,
    ):
        await fixes.subscribe("1", STATUS_CHANGED, filter={"workflow": ["se-rca-fix"]})
        await reviews.subscribe("1", STATUS_CHANGED, filter={"workflow": ["code-review"]})
        await streams_registered(runtime)

        # when a code-review job, then a se-rca-fix job are dispatched
        review = await dispatch_job(runtime, tenant, "code-review")
        fix = await dispatch_job(runtime, tenant, "se-rca-fix")

        # then each subscriber sees only its own workflow's job, with its sequence
        seen_by_fixes = (await fixes.next("1"))["jobStatusChanged"]
        seen_by_reviews = (await reviews.next("1"))["jobStatusChanged"]
        assert seen_by_fixes["job"]["number"] == fix.number
        assert seen_by_fixes["job"]["workflow"]["slug"] == "se-rca-fix"
        assert seen_by_fixes["previousStatus"] is None
        assert seen_by_reviews["job"]["number"] == review.number
        assert seen_by_reviews["sequence"] < seen_by_fixes["sequence"]


async def test_a_status_filter_sees_jobs_enter_and_leave_its_statuses(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a subscriber of the cancelled tab and a pending job
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("c", STATUS_CHANGED, filter={"status": ["CANCELLED"]})
        await streams_registered(runtime)

        # when another job is dispatched and the first is cancelled
        await dispatch_job(runtime, tenant)
        await cancel_job(runtime, tenant, job.number)

        # then only the cancellation arrives
        event = (await client.next("c"))["jobStatusChanged"]
        assert (event["job"]["number"], event["status"]) == (job.number, "CANCELLED")


async def test_resuming_with_after_loses_nothing_and_repeats_nothing(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given jobs changing status all the time
    await given_workflows(runtime, tenant)
    writer = asyncio.create_task(_keep_changing(runtime, tenant, count=60))
    received: list[int] = []
    try:
        # when a client takes a few events, drops, and comes back with `after` three times
        after: int | None = 0
        for _ in range(3):
            async with graphql_ws(live_server.ws_url, protocol) as client:
                await client.subscribe("s", STATUS_CHANGED, after=after)
                for _ in range(8):
                    received.append((await client.next("s"))["jobStatusChanged"]["sequence"])
            after = received[-1]
            await asyncio.sleep(0.05)
        await writer
        # and takes the rest after the writer stopped
        async with graphql_ws(live_server.ws_url, protocol) as client:
            await client.subscribe("s", STATUS_CHANGED, after=after)
            expected = await _sequences(runtime, tenant)
            while received[-1] != expected[-1]:
                received.append((await client.next("s"))["jobStatusChanged"]["sequence"])
    finally:
        writer.cancel()

    # then it got every event of its tenant exactly once, in order
    assert received == expected


async def _keep_changing(runtime: Runtime, tenant: str, *, count: int) -> None:
    for index in range(count):
        job = await dispatch_job(runtime, tenant)
        if index % 2:
            await cancel_job(runtime, tenant, job.number)
        await asyncio.sleep(0.005)


async def _sequences(runtime: Runtime, tenant: str) -> list[int]:
    async with runtime.session_factory() as session:
        rows = await session.scalars(
            select(JobEvent.sequence)
            .where(JobEvent.tenant_id == tenant)
            .order_by(JobEvent.sequence)
        )
        return list(rows)


async def test_concurrent_writers_never_make_a_subscriber_skip_an_event(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a live subscriber (no replay: every event must come from the shared tail)
    await given_workflows(runtime, tenant)
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("s", STATUS_CHANGED)
        await streams_registered(runtime)

        # when eight writers change jobs at the same time
        async with asyncio.TaskGroup() as writers:
            for _ in range(8):
                writers.create_task(_keep_changing(runtime, tenant, count=6))
        expected = await _sequences(runtime, tenant)
        received = [(await client.next("s"))["jobStatusChanged"]["sequence"] for _ in expected]

    # then it saw every event once, in sequence order (commit order is sequence order)
    assert received == expected

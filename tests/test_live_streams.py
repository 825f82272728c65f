"""jobUpdated, jobLogs and jobCounts over a real uvicorn socket, in both protocols."""

import pytest
from strawberry.relay import to_base64

from server.domain.enums import LogStream
from server.runtime import Runtime
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.live import streams_registered
from tests.support.servers import LiveServer
from tests.support.websocket import PROTOCOLS, graphql_ws

JOB_UPDATED = """
subscription Updated($id: ID!) { jobUpdated(id: $id) { number status canResend } }
"""
JOB_LOGS = """
subscription Logs($id: ID!, $after: Int) { jobLogs(id: $id, after: $after) { sequence message } }
"""
JOB_COUNTS = """
subscription Counts { jobCounts { all pending cancelled } }
"""

pytestmark = pytest.mark.parametrize("protocol", PROTOCOLS)


def job_id(number: int) -> str:
    return to_base64("Job", number)


async def test_job_updated_pushes_status_and_other_changes(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a subscriber of one pending job
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    other = await dispatch_job(runtime, tenant)
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("u", JOB_UPDATED, id=job_id(job.number))
        await streams_registered(runtime)

        # when another job changes, then this one is cancelled, then resent
        await cancel_job(runtime, tenant, other.number)
        await cancel_job(runtime, tenant, job.number)
        cancelled = (await client.next("u"))["jobUpdated"]
        await runtime.jobs.resend(tenant=tenant, number=job.number, actor="tests")
        resent = (await client.next("u"))["jobUpdated"]

    # then it sees its own job cancelled, and then no longer resendable
    assert cancelled == {"number": job.number, "status": "CANCELLED", "canResend": True}
    assert resent == {"number": job.number, "status": "CANCELLED", "canResend": False}


async def test_job_updated_of_an_unknown_job_is_an_error(
    live_server: LiveServer, runtime: Runtime, protocol: str
) -> None:
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("u", JOB_UPDATED, id=job_id(999_999_999))
        message = await client.receive()
    payload = message["payload"]
    errors = payload["errors"] if message["type"] in ("next", "data") else payload
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_logs_stream_in_order_after_a_sequence_then_live(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a job with five log lines
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    execution = runtime.execution
    lines = [(LogStream.STDOUT, f"line {n}") for n in range(1, 6)]
    await execution.append_logs(tenant=tenant, number=job.number, lines=lines)

    async with graphql_ws(live_server.ws_url, protocol) as client:
        # when a viewer asks for the lines after the second, while more are written
        await client.subscribe("l", JOB_LOGS, id=job_id(job.number), after=2)
        for batch in range(3):
            more = [(LogStream.STDERR, f"more {batch}.{n}") for n in range(4)]
            await execution.append_logs(tenant=tenant, number=job.number, lines=more)
        received = [(await client.next("l"))["jobLogs"] for _ in range(3 + 12)]

    # then it gets lines 3 to 17 in order, each once
    assert [line["sequence"] for line in received] == list(range(3, 18))
    assert received[0]["message"] == "line 3"
    assert received[-1]["message"] == "more 2.3"


async def test_job_counts_push_when_counts_change_coalesced(
    live_server: LiveServer, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a subscriber of the tab counts
    await given_workflows(runtime, tenant)
    await dispatch_job(runtime, tenant)
    async with graphql_ws(live_server.ws_url, protocol) as client:
        await client.subscribe("c", JOB_COUNTS)
        first = (await client.next("c"))["jobCounts"]

        # when ten jobs are dispatched and one cancelled in a burst
        jobs = [await dispatch_job(runtime, tenant) for _ in range(10)]
        await cancel_job(runtime, tenant, jobs[0].number)

        # then the counts arrive, coalesced: fewer pushes than the eleven changes
        pushes = []
        while not pushes or pushes[-1] != {"all": 11, "pending": 10, "cancelled": 1}:
            pushes.append((await client.next("c"))["jobCounts"])
    assert first == {"all": 1, "pending": 1, "cancelled": 0}
    assert len(pushes) < 11

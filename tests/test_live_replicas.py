"""Two API processes on one PostgreSQL database: a change on either reaches subscribers of both."""

from collections.abc import AsyncIterator

import httpx
import pytest
from strawberry.relay import to_base64

from server.runtime import Runtime
from server.settings import EventBusKind, Settings
from tests.support.jobs import dispatch_job, given_workflows
from tests.support.live import drop_listen_connections, streams_registered
from tests.support.replica import Replica, replica
from tests.support.servers import LiveServer
from tests.support.websocket import PROTOCOLS, graphql_ws

STATUS = "subscription { jobStatusChanged { sequence status job { number } } }"
JOB_UPDATED = "subscription($id: ID!) { jobUpdated(id: $id) { status } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { status } } }"


@pytest.fixture
async def other_replica(database_url: str, tenant: str) -> AsyncIterator[Replica]:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share events through PostgreSQL LISTEN/NOTIFY")
    async with replica(database_url, tenant) as server:
        yield server


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_worker_write_here_reaches_subscribers_of_the_other_replica(
    other_replica: Replica, runtime: Runtime, tenant: str, protocol: str
) -> None:
    # given a subscriber of the other process
    await given_workflows(runtime, tenant)
    async with graphql_ws(other_replica.ws_url, protocol) as client:
        await client.subscribe("s", "subscription { jobCounts { all } }")
        assert await client.next("s") == {"jobCounts": {"all": 0}}
        await client.subscribe("t", STATUS)

        # when this process (as a worker would) writes a status change
        job = await dispatch_job(runtime, tenant)

        # then the other process pushes it
        event = (await client.next("t"))["jobStatusChanged"]
    assert (event["job"]["number"], event["status"]) == (job.number, "PENDING")


async def test_a_mutation_on_the_other_replica_reaches_subscribers_here(
    other_replica: Replica, live_server: LiveServer, runtime: Runtime, tenant: str
) -> None:
    # given a subscriber of this process and a pending job
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    async with graphql_ws(live_server.ws_url, PROTOCOLS[0]) as client:
        await client.subscribe("t", STATUS)
        await client.subscribe("u", JOB_UPDATED, id=to_base64("Job", job.number))
        await streams_registered(runtime, 2)

        # when the other process cancels the job
        async with httpx.AsyncClient(base_url=other_replica.http_url) as http:
            response = await http.post(
                "/graphql",
                json={"query": CANCEL, "variables": {"id": to_base64("Job", job.number)}},
            )
        assert response.json()["data"]["cancelJob"]["job"]["status"] == "CANCELLED"

        # then this process pushes the status event and the job update
        event = (await client.next("t"))["jobStatusChanged"]
        updated = (await client.next("u"))["jobUpdated"]
    assert (event["job"]["number"], event["status"]) == (job.number, "CANCELLED")
    assert updated == {"status": "CANCELLED"}


async def test_after_the_bus_reconnects_subscribers_read_what_they_missed(
    database_url: str, live_server: LiveServer, runtime: Runtime, tenant: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the LISTEN connection exists on PostgreSQL only")
    # given a subscriber of a job, and a change to that job whose notification got lost
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    async with graphql_ws(live_server.ws_url, PROTOCOLS[0]) as client:
        await client.subscribe("u", JOB_UPDATED, id=to_base64("Job", job.number))
        await streams_registered(runtime)
        await _cancel_without_notifying(database_url, tenant, job.number)

        # when the LISTEN connection drops and the bus reconnects
        await drop_listen_connections(runtime)

        # then the subscriber gets the job as it is now
        assert await client.next("u") == {"jobUpdated": {"status": "CANCELLED"}}


async def _cancel_without_notifying(database_url: str, tenant: str, number: int) -> None:
    settings = Settings(database_url=database_url, event_bus=EventBusKind.MEMORY, _env_file=None)  # type: ignore[call-arg]
    writer = Runtime.from_settings(settings)
    try:
        await writer.jobs.cancel(tenant=tenant, number=number, actor="tests")
    finally:
        await writer.close()

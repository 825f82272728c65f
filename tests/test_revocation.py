"""A revoked token stops working at once in every process that shares the event bus, on the
websockets it opened as well as on new requests; elsewhere within the cache time."""

import asyncio
from contextlib import AsyncExitStack

import httpx
import pytest
from strawberry.relay import to_base64

from server.auth import Role
from server.auth.store import create_token, revoke_token
from server.domain.enums import JobStatus
from server.reads import rows
from server.runtime import Runtime
from tests.support.auth import app_with
from tests.support.jobs import dispatch_job, given_workflows
from tests.support.replica import replica
from tests.support.servers import serve
from tests.support.waiting import eventually
from tests.support.websocket import TRANSPORT_WS, graphql_ws

COUNTS = "subscription { jobCounts { all } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { status } errors { code } } }"
JOBS = "{ jobs(first: 1) { totalCount } }"
CACHE_SECONDS = 0.3
LONG_CACHE_SECONDS = 300
"""Far beyond every deadline here: only the bus's notice can end the token in time."""


async def test_revoking_a_token_closes_its_open_sockets_within_the_cache_time(
    runtime: Runtime,
) -> None:
    issued = await create_token(
        runtime.session_factory, tenant=runtime.settings.default_tenant, role=Role.VIEWER
    )
    app = app_with(runtime, token_cache_seconds=CACHE_SECONDS)
    async with serve(app) as server, graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {issued.token}"})
        await ws.subscribe("1", COUNTS)
        await ws.next("1")

        await revoke_token(runtime.session_factory, runtime.bus, token_id=issued.id)
        async with asyncio.timeout(CACHE_SECONDS * 2 + 1):
            closed = await ws.close_frame()

    assert closed.code == 4403


async def test_a_mutation_sent_after_revocation_does_not_run(runtime: Runtime, tenant: str) -> None:
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    issued = await create_token(runtime.session_factory, tenant=tenant, role=Role.OPERATOR)
    app = app_with(runtime, token_cache_seconds=0)
    async with serve(app) as server, graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {issued.token}"})

        await revoke_token(runtime.session_factory, runtime.bus, token_id=issued.id)
        await ws.subscribe("1", CANCEL, id=to_base64("Job", job.number))
        closed = await ws.close_frame()

    assert closed.code == 4403
    async with runtime.session_factory() as session:
        found = await rows.jobs_by_number(session, tenant=tenant, numbers=[job.number])
    assert found[job.number].status is JobStatus.PENDING


async def test_the_revocation_notice_ends_a_cached_token_and_its_sockets_at_once(
    runtime: Runtime,
) -> None:
    # given a token trusted from the cache, on a request and on an open socket
    issued = await create_token(
        runtime.session_factory, tenant=runtime.settings.default_tenant, role=Role.VIEWER
    )
    app = app_with(runtime, token_cache_seconds=LONG_CACHE_SECONDS)
    headers = {"Authorization": f"Bearer {issued.token}"}
    async with (
        serve(app) as server,
        graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws,
        httpx.AsyncClient(base_url=server.http_url, headers=headers) as http,
    ):
        assert (await http.post("/graphql", json={"query": JOBS})).status_code == 200
        await ws.init(headers)
        await ws.subscribe("1", COUNTS)
        await ws.next("1")

        # when it is revoked, on this process's bus
        await revoke_token(runtime.session_factory, runtime.bus, token_id=issued.id)

        # then the next request is refused and the socket closes, cache or not
        after = await http.post("/graphql", json={"query": JOBS})
        closed = await ws.close_frame()

    assert after.status_code == 401
    assert closed.code == 4403


async def test_a_revoked_token_stops_working_on_every_replica_through_postgres(
    database_url: str, runtime: Runtime, tenant: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share revocations through PostgreSQL LISTEN/NOTIFY")
    # given two API processes that trust a checked token for minutes
    issued = await create_token(runtime.session_factory, tenant=tenant, role=Role.VIEWER)
    environment = {
        "JOBMONITOR_AUTH": "enabled",
        "JOBMONITOR_TOKEN_CACHE_SECONDS": str(LONG_CACHE_SECONDS),
    }
    headers = {"Authorization": f"Bearer {issued.token}"}
    async with AsyncExitStack() as stack:
        replicas = await asyncio.gather(
            *(
                stack.enter_async_context(replica(database_url, tenant, environment=environment))
                for _ in range(2)
            )
        )
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.http_url, headers=headers)
            )
            for server in replicas
        ]
        ws = await stack.enter_async_context(
            graphql_ws(replicas[1].ws_url, TRANSPORT_WS, init=False)
        )
        for http in clients:
            assert (await http.post("/graphql", json={"query": JOBS})).status_code == 200
        await ws.init(headers)
        await ws.subscribe("1", COUNTS)
        await ws.next("1")

        # when a third process revokes it
        await revoke_token(runtime.session_factory, runtime.bus, token_id=issued.id)

        # then both replicas refuse it, and the socket on one of them closes
        async def refused_everywhere() -> bool:
            answers = [await http.post("/graphql", json={"query": JOBS}) for http in clients]
            return all(answer.status_code == 401 for answer in answers)

        await eventually(refused_everywhere)
        closed = await ws.close_frame()

    assert closed.code == 4403

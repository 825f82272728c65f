"""A revoked token stops working on the websockets it opened, not only on new requests."""

import asyncio

from strawberry.relay import to_base64

from server.auth import Role
from server.auth.store import create_token, revoke_token
from server.domain.enums import JobStatus
from server.reads import rows
from server.runtime import Runtime
from tests.support.auth import app_with
from tests.support.jobs import dispatch_job, given_workflows
from tests.support.servers import serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

COUNTS = "subscription { jobCounts { all } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { status } errors { code } } }"
CACHE_SECONDS = 0.3


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

        await revoke_token(runtime.session_factory, token_id=issued.id)
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

        await revoke_token(runtime.session_factory, token_id=issued.id)
        await ws.subscribe("1", CANCEL, id=to_base64("Job", job.number))
        closed = await ws.close_frame()

    assert closed.code == 4403
    async with runtime.session_factory() as session:
        found = await rows.jobs_by_number(session, tenant=tenant, numbers=[job.number])
    assert found[job.number].status is JobStatus.PENDING

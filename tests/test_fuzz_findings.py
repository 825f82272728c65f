"""Regressions the fuzz tests found, kept as plain tests."""

import asyncio

from server.auth import Role
from server.runtime import Runtime
from tests.support.auth import app_with, token_for
from tests.support.servers import serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

COUNTS = "subscription { jobCounts { all } }"


async def test_a_subscriber_that_leaves_at_once_does_not_stall_the_next(runtime: Runtime) -> None:
    """A shared cohort whose only subscriber left before it first ran stayed registered, and
    everyone who subscribed to the same operation afterwards waited forever."""
    token = await token_for(runtime, Role.VIEWER)
    async with serve(app_with(runtime)) as server:
        async with graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as hasty:
            await hasty.init({"Authorization": f"Bearer {token}"})
            await hasty.subscribe("1", COUNTS)
        async with graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as patient:
            await patient.init({"Authorization": f"Bearer {token}"})
            await patient.subscribe("1", COUNTS)
            async with asyncio.timeout(3):
                counts = await patient.next("1")

    assert counts == {"jobCounts": {"all": 0}}

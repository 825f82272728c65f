"""A real Apollo Client (Node.js, `@apollo/client` with `graphql-ws`) against the API: one query
over HTTP, one subscription over graphql-transport-ws."""

import asyncio
from pathlib import Path

from strawberry.relay import to_base64

from server.runtime import Runtime
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.live import streams_registered
from tests.support.node import json_line, start_node, stopped
from tests.support.servers import LiveServer

RUN_SECONDS = 30


async def test_apollo_client_queries_and_subscribes(
    node_clients: Path, live_server: LiveServer, runtime: Runtime, tenant: str
) -> None:
    # given a pending job, and Apollo Client that queries it and subscribes to its updates
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    job_id = to_base64("Job", job.number)
    node = await start_node(
        node_clients / "client.mjs",
        f"{live_server.http_url}/graphql",
        live_server.ws_url,
        job_id,
        str(job.number),
    )
    try:
        async with asyncio.timeout(RUN_SECONDS):
            assert node.stdout is not None
            queried = await json_line(node.stdout)
            # when the job is cancelled once the subscription is in place
            await streams_registered(runtime)
            await cancel_job(runtime, tenant, job.number)
            pushed = await json_line(node.stdout)
            await node.wait()
    finally:
        await stopped(node)

    # then Apollo got the job, then its update
    assert queried == {
        "kind": "query",
        "data": {
            "job": {"__typename": "Job", "id": job_id, "number": job.number, "status": "PENDING"}
        },
    }
    assert pushed == {
        "kind": "subscription",
        "data": {
            "jobUpdated": {
                "__typename": "Job",
                "id": job_id,
                "number": job.number,
                "status": "CANCELLED",
            }
        },
    }
    assert node.returncode == 0

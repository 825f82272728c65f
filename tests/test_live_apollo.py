"""A real Apollo Client (Node.js, `@apollo/client` with `graphql-ws`) against the API: one query
over HTTP, one subscription over graphql-transport-ws."""

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from strawberry.relay import to_base64

from server.runtime import Runtime
from tests.support.environment import missing
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.live import streams_registered
from tests.support.servers import LiveServer

CLIENT_DIR = Path(__file__).with_name("apollo")
NODE = shutil.which("node")
RUN_SECONDS = 30


@pytest.fixture(scope="session")
def apollo_client() -> Path:
    """The Node client script. Its packages come from package-lock.json through `npm ci` in
    tests/apollo, which `.ci/run` does before the tests (the tests never reach a registry)."""
    if NODE is None:
        missing("Node.js is not installed")
    if not (CLIENT_DIR / "node_modules").is_dir():
        missing("the Apollo client's packages are not installed: run `npm ci` in tests/apollo")
    return CLIENT_DIR / "client.mjs"


async def test_apollo_client_queries_and_subscribes(
    apollo_client: Path, live_server: LiveServer, runtime: Runtime, tenant: str
) -> None:
    # given a pending job, and Apollo Client that queries it and subscribes to its updates
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    job_id = to_base64("Job", job.number)
    assert NODE is not None
    node = await asyncio.create_subprocess_exec(
        NODE,
        str(apollo_client),
        f"{live_server.http_url}/graphql",
        live_server.ws_url,
        job_id,
        str(job.number),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_SECONDS):
            assert node.stdout is not None
            queried = await _line(node.stdout)
            # when the job is cancelled once the subscription is in place
            await streams_registered(runtime)
            await cancel_job(runtime, tenant, job.number)
            pushed = await _line(node.stdout)
            await node.wait()
    finally:
        if node.returncode is None:
            node.kill()
            await node.wait()

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


async def _line(stream: asyncio.StreamReader) -> dict[str, Any]:
    line = await stream.readline()
    assert line, "the Node client ended without output"
    result: dict[str, Any] = json.loads(line)
    return result

"""A second API process (`jobmonitor serve`) on 127.0.0.1, for tests across replicas."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from server.net import free_port
from tests.support.processes import JOBMONITOR, until_answering
from tests.support.servers import Endpoint

STARTUP_SECONDS = 30


class Replica(Endpoint):
    """A second API process."""


@asynccontextmanager
async def replica(database_url: str, tenant: str) -> AsyncIterator[Replica]:
    """`jobmonitor serve` in its own process on the same database, auth disabled in `tenant`."""
    port = free_port()
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": database_url,
        "JOBMONITOR_AUTH": "disabled",
        "JOBMONITOR_DEFAULT_TENANT": tenant,
    }
    process = await asyncio.create_subprocess_exec(
        JOBMONITOR, "serve", "--port", str(port), env=env
    )
    try:
        server = Replica(port)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            await until_answering(http, "/healthz", process, within=STARTUP_SECONDS)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()

"""A second API process (`jobmonitor serve`) on 127.0.0.1, for tests across replicas."""

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import IO

import httpx

from server.net import free_port
from tests.support.processes import JOBMONITOR, until_answering
from tests.support.servers import Endpoint

STARTUP_SECONDS = 30


class Replica(Endpoint):
    """A second API process."""


@asynccontextmanager
async def replica(
    database_url: str,
    tenant: str,
    *,
    environment: Mapping[str, str] | None = None,
    stderr: IO[bytes] | None = None,
) -> AsyncIterator[Replica]:
    """`jobmonitor serve` in its own process on the same database, auth disabled in `tenant`,
    with more `environment` variables, its standard error written to `stderr` if given."""
    port = free_port()
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": database_url,
        "JOBMONITOR_AUTH": "disabled",
        "JOBMONITOR_DEFAULT_TENANT": tenant,
        **(environment or {}),
    }
    process = await asyncio.create_subprocess_exec(
        JOBMONITOR, "serve", "--port", str(port), env=env, stderr=stderr
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

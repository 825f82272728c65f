"""A second API process (`jobmonitor serve`) on 127.0.0.1, for tests across replicas."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from server.net import free_port

from .live_server import Endpoint

STARTUP_SECONDS = 30
COMMAND = Path(sys.executable).with_name("jobmonitor")


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
        str(COMMAND), "serve", "--port", str(port), env=env
    )
    try:
        server = Replica(port)
        await _until_healthy(server, process)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def _until_healthy(server: Replica, process: asyncio.subprocess.Process) -> None:
    async with (
        httpx.AsyncClient(base_url=server.http_url) as http,
        asyncio.timeout(STARTUP_SECONDS),
    ):
        while process.returncode is None:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"jobmonitor serve exited with {process.returncode}")

"""A second API process (`jobmonitor serve`) on 127.0.0.1, for tests across replicas."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 30
COMMAND = Path(sys.executable).with_name("jobmonitor")


@dataclass(frozen=True)
class Replica:
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@asynccontextmanager
async def replica(database_url: str, tenant: str) -> AsyncIterator[Replica]:
    """`jobmonitor serve` in its own process on the same database, auth disabled in `tenant`."""
    port = _free_port()
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

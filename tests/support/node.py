"""The Node.js clients of tests/apollo (Apollo Client, graphql-ws, the graphql-http audit): their
packages come from package-lock.json through `npm ci`, which `.ci/run` does before the tests
(the tests never reach a registry)."""

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.environment import missing

CLIENT_DIR = Path(__file__).parent.parent / "apollo"
NODE = shutil.which("node")


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """The folder of the Node client scripts, their packages installed."""
    if NODE is None:
        missing("Node.js is not installed")
    if not (CLIENT_DIR / "node_modules").is_dir():
        missing("the Node clients' packages are not installed: run `npm ci` in tests/apollo")
    return CLIENT_DIR


async def start_node(script: Path, *arguments: str) -> asyncio.subprocess.Process:
    """Starts `node script arguments...` with its standard output piped."""
    assert NODE is not None
    return await asyncio.create_subprocess_exec(
        NODE, str(script), *arguments, stdout=asyncio.subprocess.PIPE
    )


async def json_line(stream: asyncio.StreamReader) -> dict[str, Any]:
    """The next line a Node client printed, as JSON."""
    line = await stream.readline()
    assert line, "the Node client ended without output"
    result: dict[str, Any] = json.loads(line)
    return result


async def stopped(node: asyncio.subprocess.Process) -> None:
    """Kills the Node client if it is still running."""
    if node.returncode is None:
        node.kill()
        await node.wait()

"""`jobmonitor dev` run as a process in a folder of its own (its SQLite database, its Temporal
dev server on ports of its own), with no JOBMONITOR_ settings from outside; stopped as a person
would stop it (Ctrl-C), so that it stops its Temporal dev server too."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.cli.dev import EXAMPLES
from server.net import free_port
from tests.support.graphql import GraphQLClient
from tests.support.processes import JOBMONITOR, until_answering

START_SECONDS = 60


@dataclass(frozen=True)
class Dev:
    process: asyncio.subprocess.Process
    gql: GraphQLClient
    output: Path
    url: str


@asynccontextmanager
async def running_dev(
    folder: Path, *, seeded_jobs: int = 0, workflows: Sequence[Path] = ()
) -> AsyncIterator[Dev]:
    """`dev` serving on a free port, once it answers; with `seeded_jobs`, its database first gets
    that many demo jobs (`jobmonitor seed`); `workflows` are loaded beside the examples."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    if seeded_jobs:
        seed = await asyncio.create_subprocess_exec(
            JOBMONITOR,
            "seed",
            "--jobs",
            str(seeded_jobs),
            cwd=folder,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert await seed.wait() == 0
    output = folder / "dev.log"
    port = free_port()
    ports = ["--temporal-port", str(free_port()), "--temporal-ui-port", str(free_port())]
    loaded = [f"--workflows={path}" for path in (EXAMPLES, *workflows)] if workflows else []
    with output.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            JOBMONITOR,
            "dev",
            "--port",
            str(port),
            *ports,
            *loaded,
            cwd=folder,
            env=env,
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            await until_answering(http, "/healthz", process, within=START_SECONDS)
            yield Dev(process, GraphQLClient(http), output, url)
    finally:
        await _stopped(process)


async def _stopped(process: asyncio.subprocess.Process) -> None:
    """Ctrl-C; killed only if that does not work."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        async with asyncio.timeout(30):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()

"""Every long-running command stops within 10 s of SIGTERM or Ctrl-C whatever Temporal and
PostgreSQL are doing: answering nothing (a listener that accepts and never replies), frozen
(SIGSTOP) in the middle of running jobs, or behind an API port that is taken."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from server.net import free_port
from server.runtime import Runtime
from server.settings import Settings
from server.shutdown import HARD_STOP_MARGIN
from server.temporal.dev_server import dev_server
from tests.support.processes import JOBMONITOR
from tests.support.waiting import eventually

STOP_SECONDS = 10.0
"""The promise: the default grace and the hard stop's margin fit in it."""
START_SECONDS = 90.0
Process = asyncio.subprocess.Process


def test_the_default_grace_and_the_hard_stop_fit_in_ten_seconds() -> None:
    grace = Settings(_env_file=None).shutdown_grace_seconds  # type: ignore[call-arg]

    assert grace + HARD_STOP_MARGIN < STOP_SECONDS


class Silent:
    """A TCP port that accepts connections and never answers: a database or a Temporal
    that hangs rather than refuses."""

    def __init__(self) -> None:
        self.connections = 0
        self._held: list[asyncio.StreamWriter] = []

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._held.append(writer)


@asynccontextmanager
async def silent_port() -> AsyncIterator[tuple[Silent, int]]:
    silent = Silent()
    server = await asyncio.start_server(silent._accept, "127.0.0.1", 0)
    try:
        yield silent, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in silent._held:
            writer.close()


def environment(**settings: str) -> dict[str, str]:
    """This environment without JOBMONITOR_ settings of its own, and these."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    return {**clean, **{f"JOBMONITOR_{key.upper()}": value for key, value in settings.items()}}


async def start(*arguments: str, env: dict[str, str], log: Path, cwd: Path) -> Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            JOBMONITOR, *arguments, env=env, cwd=cwd, stdout=output, stderr=output
        )


async def stops_within_deadline(process: Process, sig: signal.Signals) -> int:
    """Send `sig`; the exit code, which must come within STOP_SECONDS."""
    if process.returncode is None:
        process.send_signal(sig)
    try:
        async with asyncio.timeout(STOP_SECONDS):
            return await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{process.pid} still ran {STOP_SECONDS} s after {sig!r}") from None


@contextmanager
def frozen(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


async def test_worker_agent_and_api_stop_in_time_while_their_services_answer_nothing(
    shared_runtime: Runtime, tmp_path: Path
) -> None:
    database_url = shared_runtime.settings.database_url  # migrated: the agent gets to Temporal
    if not database_url.startswith("postgresql"):
        pytest.skip("one run is enough: the database here answers nothing")
    async with silent_port() as (database, database_port), silent_port() as (temporal, port):
        hung_database = f"postgresql+asyncpg://postgres@127.0.0.1:{database_port}/test"
        hung_temporal = f"127.0.0.1:{port}"
        log = tmp_path / "processes.log"
        started = [
            # the worker hangs on the database, the agent on Temporal, the API on both
            (
                await start(
                    "worker",
                    env=environment(database_url=hung_database, temporal_address=hung_temporal),
                    log=log,
                    cwd=tmp_path,
                ),
                signal.SIGTERM,
            ),
            (
                await start(
                    "agent",
                    "--name",
                    "stuck",
                    env=environment(database_url=database_url, temporal_address=hung_temporal),
                    log=log,
                    cwd=tmp_path,
                ),
                signal.SIGINT,
            ),
            (
                await start(
                    "serve",
                    "--port",
                    str(free_port()),
                    env=environment(database_url=hung_database, temporal_address=hung_temporal),
                    log=log,
                    cwd=tmp_path,
                ),
                signal.SIGTERM,
            ),
        ]
        await eventually(lambda: database.connections >= 2 and temporal.connections >= 1, 30)
        for process, _ in started:
            assert process.returncode is None, log.read_text()

        await asyncio.gather(*(stops_within_deadline(process, sig) for process, sig in started))


async def test_dev_with_its_port_taken_while_temporal_is_frozen_exits_and_says_why(
    tmp_path: Path,
) -> None:
    taken = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = taken.sockets[0].getsockname()[1]
    log = tmp_path / "dev.log"
    async with dev_server() as address:
        temporal_pid = next(
            pid for pid in children_of(os.getpid()) if alive(pid) and _is_temporal(pid)
        )
        dev = await start(
            "dev",
            "--port",
            str(port),
            env=environment(temporal_address=address),
            log=log,
            cwd=tmp_path,
        )
        await eventually(lambda: "GraphiQL at" in log.read_text(), START_SECONDS)
        with frozen(temporal_pid):
            code = await stops_within_deadline(dev, signal.SIGTERM)
    taken.close()

    assert code != 0
    assert f"could not start on 127.0.0.1:{port}" in log.read_text()


async def test_dev_stops_in_time_on_ctrl_c_while_its_temporal_is_frozen_mid_job(
    tmp_path: Path,
) -> None:
    log = tmp_path / "dev.log"
    ports = ["--temporal-port", str(free_port()), "--temporal-ui-port", str(free_port())]
    dev = await start(
        "dev",
        "--demo",
        "--port",
        str(free_port()),
        *ports,
        env=environment(),
        log=log,
        cwd=tmp_path,
    )
    try:
        await eventually(lambda: "GraphiQL at" in log.read_text(), START_SECONDS)
        temporal_pid = next(pid for pid in children_of(dev.pid) if _is_temporal(pid))
        await asyncio.sleep(1)  # the demo's first jobs are under way
        with frozen(temporal_pid):
            await stops_within_deadline(dev, signal.SIGINT)
            assert not alive(temporal_pid), "dev left its Temporal dev server behind"
    finally:
        if dev.returncode is None:
            dev.kill()
            await dev.wait()


def _is_temporal(pid: int) -> bool:
    try:
        return b"start-dev" in (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False

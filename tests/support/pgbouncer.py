"""PgBouncer (Debian's `pgbouncer`) in transaction mode in front of the test PostgreSQL server,
started for the session on a free port with a configuration in a temporary folder."""

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from server.net import free_port
from tests.support.database import POSTGRES_ADMIN_URL
from tests.support.waiting import eventually

READY_SECONDS = 10
CONFIG = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 1000
# The server's connections are shared with every other suite on this machine: few, and
# closed soon when idle.
default_pool_size = 8
server_idle_timeout = 10
ignore_startup_parameters = extra_float_digits
"""


def _binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        message = "pgbouncer is not installed (apt-get install pgbouncer)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class PgBouncer:
    port: int
    process: asyncio.subprocess.Process

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """PgBouncer stopped (SIGSTOP) for the block: connections through it hang, as they do
        when PostgreSQL stops answering."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
async def pgbouncer() -> AsyncIterator[PgBouncer]:
    """PgBouncer pooling the test server's databases in transaction mode."""
    port = free_port()
    config = _configuration(port)
    command = [_binary(), str(config)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await _until_it_answers(port, process)
        yield PgBouncer(port, process)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        shutil.rmtree(config.parent, ignore_errors=True)


def _configuration(port: int) -> Path:
    """pgbouncer.ini in a folder of its own. PgBouncer refuses to run as root; as root it
    drops to the server's user, which must be able to read the file."""
    upstream = make_url(POSTGRES_ADMIN_URL)
    folder = Path(tempfile.mkdtemp(prefix="jobmonitor-pgbouncer-"))
    folder.chmod(0o755)
    config = folder / "pgbouncer.ini"
    config.write_text(
        CONFIG.format(
            host=upstream.host or "127.0.0.1",
            port=upstream.port or 5432,
            user=upstream.username or "postgres",
            listen=port,
        )
    )
    config.chmod(0o644)
    return config


async def _until_it_answers(port: int, process: asyncio.subprocess.Process) -> None:
    database = make_url(POSTGRES_ADMIN_URL).database

    async def answers() -> bool:
        assert process.returncode is None, f"pgbouncer exited with {process.returncode}"
        try:
            connection = await asyncpg.connect(
                f"postgresql://postgres@127.0.0.1:{port}/{database}", statement_cache_size=0
            )
        except (OSError, asyncpg.PostgresError):
            return False
        await connection.close()
        return True

    await eventually(answers, READY_SECONDS)


def through_pgbouncer(database_url: str, port: int) -> str:
    """The same database, reached through PgBouncer."""
    return make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(False)


@pytest.fixture(scope="session")
def pgbouncer_port(pgbouncer: PgBouncer) -> int:
    return pgbouncer.port

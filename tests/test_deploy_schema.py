"""Migrations beyond one machine: long-running processes never migrate on their own unless
JOBMONITOR_AUTO_MIGRATE=true, and then under a lock, so that replicas starting at once on an
empty database are safe; a process whose code is ahead of the schema refuses to start."""

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from server.db import migrate
from server.db.engine import create_engine
from server.db.migrate import SchemaVersion
from server.net import free_port
from server.web.serving import GracefulServer
from tests.support.processes import JOBMONITOR, run_cli, until_answering

OLDEST = "0001"


def _environment(database_url: str, **settings: str) -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    extra = {f"JOBMONITOR_{name.upper()}": value for name, value in settings.items()}
    return {**kept, "JOBMONITOR_DATABASE_URL": database_url, "JOBMONITOR_AUTH": "disabled", **extra}


async def _ready(port: int, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        await until_answering(http, "/readyz", process, within=180)


@pytest.mark.postgres
async def test_three_replicas_starting_at_once_on_an_empty_database_migrate_it_once(
    empty_postgres_url: str,
) -> None:
    # given an empty database and three API replicas allowed to migrate it
    env = _environment(empty_postgres_url, auto_migrate="true")
    ports = [free_port() for _ in range(3)]

    # when they start at the same moment
    processes = [
        await asyncio.create_subprocess_exec(
            JOBMONITOR,
            "serve",
            "--port",
            str(port),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        ready = asyncio.gather(*(_ready(port, p) for port, p in zip(ports, processes, strict=True)))
        await ready
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        errors = [(await process.communicate())[1].decode() for process in processes]

    # then all three became ready (none failed on the others' migration), and the database
    # is at the code's head
    assert ready.exception() is None, errors
    engine = create_engine(empty_postgres_url)
    try:
        async with engine.connect() as connection:
            state = await migrate.read_state(connection)
    finally:
        await engine.dispose()
    assert state.version is SchemaVersion.CURRENT


@pytest.fixture
def empty_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    for name in [name for name in os.environ if name.startswith("JOBMONITOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", url)
    monkeypatch.setattr(GracefulServer, "run", lambda _server, _sockets=None: None)
    return url


@pytest.mark.parametrize(
    "command", [["serve"], ["worker"], ["agent", "--name", "a-1"], ["reconcile"]]
)
def test_a_process_refuses_a_schema_behind_its_code_and_names_jobmonitor_migrate(
    empty_sqlite: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    # given an empty database and a configured Temporal (never reached)
    monkeypatch.setenv("JOBMONITOR_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")

    # when the process starts without JOBMONITOR_AUTO_MIGRATE
    code = run_cli(monkeypatch, *command)

    # then it refuses, on one line that says what to do
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("error: the database schema is empty; this code needs ")
    assert "run `jobmonitor migrate` first" in error


def test_serve_starts_once_jobmonitor_migrate_brought_the_schema_forward(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli(monkeypatch, "migrate") == 0

    assert run_cli(monkeypatch, "serve") == 0


async def test_a_schema_ahead_of_the_code_is_accepted_as_a_rollout_in_progress(
    tmp_path: Path,
) -> None:
    # given a database that a newer version migrated (a revision this code does not know)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}")
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_newer'"))

        # when this older code starts without migrating, and when it is asked to migrate
        await migrate.prepare(engine, migrate=False)
        await migrate.prepare(engine, migrate=True)

        # then it neither refuses nor touches the schema
        async with engine.connect() as connection:
            state = await migrate.read_state(connection)
    finally:
        await engine.dispose()
    assert state.version is SchemaVersion.AHEAD
    assert state.database == {"ffff_newer"}


async def test_a_schema_at_an_older_revision_is_behind(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'older.db'}")
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text(f"UPDATE alembic_version SET version_num = '{OLDEST}'"))

        with pytest.raises(migrate.SchemaBehind, match="jobmonitor migrate"):
            await migrate.prepare(engine, migrate=False)
    finally:
        await engine.dispose()

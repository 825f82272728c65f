"""The PostgreSQL server of the tests: a database of their own per run, made and dropped here."""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.support.environment import missing

POSTGRES_ADMIN_URL = os.environ.get(
    "JOBMONITOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


async def create_postgres_database() -> str:
    """A new, empty database; skipped where PostgreSQL is missing (a failure under CI)."""
    name = f"jobmonitor_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        missing(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def sqlalchemy_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the test server."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


@asynccontextmanager
async def fresh_database(like: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database on the backend of the URL `like` (a file in
    `directory` for SQLite), dropped afterwards."""
    if like.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    name = await create_postgres_database()
    try:
        yield sqlalchemy_url(name)
    finally:
        await drop_postgres_database(name)

"""The PostgreSQL server of the tests: a database of their own per run, made and dropped here."""

import os
import uuid

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

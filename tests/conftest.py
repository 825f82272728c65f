"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

Each test run gets its own SQLite file and its own PostgreSQL database; each test gets its
own tenant, so tests never see each other's rows.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from server.app import create_app
from server.db import migrate
from server.runtime import Runtime
from server.settings import AuthMode, Settings
from tests.support.database import (
    create_postgres_database,
    drop_postgres_database,
    sqlalchemy_url,
)
from tests.support.graphql import GraphQLClient, serving

BACKENDS = ["sqlite", "postgresql"]
# Fixtures of the support modules: uvicorn servers, a real Temporal dev server with per-test
# workers, the probe workflow of the timeline tests, PgBouncer in front of PostgreSQL,
# Temporal behind a mutual-TLS proxy, the Node.js clients of tests/apollo, and Chromium.
pytest_plugins = [
    "tests.support.browser",
    "tests.support.node",
    "tests.support.servers",
    "tests.support.temporal",
    "tests.support.timeline",
    "tests.support.pgbouncer",
    "tests.support.tls_proxy",
]


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh, migrated database for this test run, on each backend."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "jobmonitor.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = await create_postgres_database()
    try:
        yield sqlalchemy_url(name)
    finally:
        await drop_postgres_database(name)


@pytest.fixture
async def empty_postgres_url() -> AsyncIterator[str]:
    """A PostgreSQL database of its own for this test, with nothing in it (not migrated)."""
    name = await create_postgres_database()
    try:
        yield sqlalchemy_url(name)
    finally:
        await drop_postgres_database(name)


@pytest.fixture(scope="session")
async def shared_runtime(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Runtime]:
    settings = Settings(
        database_url=database_url,
        artifacts_dir=tmp_path_factory.mktemp("artifacts"),
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = Runtime.from_settings(settings)
    await migrate.upgrade(runtime.engine)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def runtime(shared_runtime: Runtime, tenant: str) -> AsyncIterator[Runtime]:
    """A runtime of its own on the migrated database (its own engine, bus and live hub, closed
    when the test ends), with this test's tenant as the default tenant and auth disabled
    (tests that need tokens ask for `authed_runtime`)."""
    settings = shared_runtime.settings.model_copy(
        update={"default_tenant": tenant, "auth": AuthMode.DISABLED}
    )
    runtime = Runtime.from_settings(settings)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as http:
        yield http


@pytest.fixture
def authed_runtime(runtime: Runtime) -> Runtime:
    """Like `runtime`, but every request needs an API token (see tests/test_auth*.py)."""
    settings = runtime.settings.model_copy(update={"auth": AuthMode.ENABLED})
    return replace(runtime, settings=settings)


@pytest.fixture
def authed_app(authed_runtime: Runtime) -> FastAPI:
    return create_app(runtime=authed_runtime)


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def sql_statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement the test's engine runs while the test holds this list."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def on_postgresql(database_url: str) -> None:
    """For tests that need no second run on SQLite (the deployment's database is PostgreSQL)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("runs on PostgreSQL only")

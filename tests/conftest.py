"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

Each test run gets its own SQLite file and its own PostgreSQL database; each test gets its
own tenant, so tests never see each other's rows.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from server.app import create_app
from server.db import migrate
from server.runtime import Runtime
from server.settings import AuthMode, Settings
from tests.live_server import live_server

POSTGRES_ADMIN_URL = os.environ.get(
    "JOBMONITOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
__all__ = ["live_server"]  # a fixture of tests.live_server, shared by every test
# A real Temporal dev server and per-test workers (tests/test_temporal_*.py), the probe
# workflow of tests/test_timeline_*.py, PgBouncer in front of PostgreSQL, and Temporal behind
# a mutual-TLS proxy.
pytest_plugins = [
    "tests.temporal_support",
    "tests.timeline_fixtures",
    "tests.pgbouncer",
    "tests.tls_proxy",
]


async def _create_postgres_database() -> str:
    name = f"jobmonitor_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh, migrated database for this test run, on each backend."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "jobmonitor.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = await _create_postgres_database()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def empty_postgres_url() -> AsyncIterator[str]:
    """A PostgreSQL database of its own for this test, with nothing in it (not migrated)."""
    name = await _create_postgres_database()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        await _drop_postgres_database(name)


@pytest.fixture(scope="session")
async def shared_runtime(database_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    await migrate.upgrade(runtime.engine)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def runtime(shared_runtime: Runtime, tenant: str) -> Runtime:
    """The shared runtime, with this test's tenant as the default tenant and auth disabled
    (tests that need tokens ask for `authed_runtime`)."""
    settings = shared_runtime.settings.model_copy(
        update={"default_tenant": tenant, "auth": AuthMode.DISABLED}
    )
    return replace(shared_runtime, settings=settings)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to `app` in-process, with the app's lifespan running."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        yield http


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


class GraphQLClient:
    """Posts operations to /graphql and hands back `data`, failing on unexpected errors."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.raw(query, **variables)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def sql_statements(shared_runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement the shared engine runs while the test holds this list."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = shared_runtime.engine.sync_engine
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

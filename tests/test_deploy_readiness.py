"""/readyz: 200 when the database answers at the schema's head, Temporal answers and the event
bus listens; 503 with the reason otherwise; one verdict per second however many probes."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import text

from server.app import create_app
from server.db import migrate
from server.net import free_port
from server.runtime import Runtime
from server.settings import Settings
from server.web.readiness import Readiness
from tests.support.graphql import serving


async def _probe(runtime: Runtime) -> httpx.Response:
    async with serving(create_app(runtime=runtime)) as http:
        return await http.get("/readyz")


@pytest.fixture
async def fresh_runtime(database_url: str) -> AsyncIterator[Runtime]:
    """A runtime of its own on the test database, its event bus not started."""
    runtime = Runtime.from_settings(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_ready_when_the_database_is_at_head_and_the_bus_listens(runtime: Runtime) -> None:
    await runtime.live.start()

    response = await _probe(runtime)

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "event_bus": "ok"}}


@pytest.mark.postgres
async def test_not_ready_until_the_event_bus_listens(
    database_url: str, fresh_runtime: Runtime
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the bus listens on PostgreSQL only")

    before = await _probe(fresh_runtime)
    await fresh_runtime.live.start()
    after = await _probe(fresh_runtime)

    assert before.status_code == 503
    assert before.json()["reason"] == "event_bus: not listening (reconnecting to PostgreSQL)"
    assert after.status_code == 200


async def test_not_ready_when_the_database_does_not_answer(runtime: Runtime) -> None:
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"
    down = Runtime.from_settings(Settings(database_url=unreachable, _env_file=None))  # type: ignore[call-arg]
    try:
        response = await _probe(replace(down, bus=runtime.bus))
    finally:
        await down.close()

    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["reason"].startswith("database: ConnectionRefusedError")


async def test_not_ready_when_the_schema_is_behind_and_the_reason_says_migrate(
    fresh_runtime: Runtime,
) -> None:
    await fresh_runtime.live.start()
    async with fresh_runtime.engine.begin() as connection:
        (head,) = migrate.code_heads()
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = await _probe(fresh_runtime)
    finally:
        async with fresh_runtime.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )

    assert response.status_code == 503
    assert response.json()["reason"] == (
        f"database: the database schema is 0001; this code needs {head}: run `jobmonitor migrate`"
    )


async def test_not_ready_when_temporal_does_not_answer(runtime: Runtime) -> None:
    await runtime.live.start()
    settings = runtime.settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})

    response = await _probe(replace(runtime, settings=settings))

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert "Connection refused" in response.json()["checks"]["temporal"]


async def test_concurrent_probes_share_one_check_and_its_verdict_is_reused() -> None:
    # given a readiness whose only check is slow and counted
    calls = 0
    release = asyncio.Event()

    async def check() -> str | None:
        nonlocal calls
        calls += 1
        await release.wait()
        return None

    readiness = Readiness({"slow": check})

    # when fifty probes arrive while the check runs, then fifty more just after
    first = [asyncio.create_task(readiness.verdict()) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    verdicts = await asyncio.gather(*first)
    verdicts += await asyncio.gather(*(readiness.verdict() for _ in range(50)))

    # then the check ran once and every probe got its verdict
    assert calls == 1
    assert all(verdict.ready for verdict in verdicts)


async def test_a_process_that_is_stopping_is_not_ready() -> None:
    readiness = Readiness({})
    readiness.stopping()

    verdict = await readiness.verdict()

    assert not verdict.ready
    assert verdict.reason() == "process: shutting down"

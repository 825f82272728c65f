"""PostgreSQL drops the pool's connections (a restart, a failover, an idle-connection reaper),
under reads and under writes: the one request that meets a dead connection gets a clear error
and writes nothing, and the next request succeeds on fresh connections."""

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text

from server.db.models import Job
from server.runtime import Runtime
from tests.support.database import POSTGRES_ADMIN_URL
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient
from tests.support.mutations import DISPATCH
from tests.support.waiting import eventually

JOBS = "{ jobs { totalCount edges { node { number } } } }"
POOLED = 3


@pytest.fixture
def postgres(runtime: Runtime) -> Runtime:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("a pool of server connections exists on PostgreSQL only")
    return runtime


async def pooled_backends(runtime: Runtime) -> list[int]:
    """Fill the pool with connections at once and name their server processes."""
    held = [await runtime.engine.connect() for _ in range(POOLED)]
    try:
        return [int(await c.scalar(text("SELECT pg_backend_pid()")) or 0) for c in held]
    finally:
        for connection in held:
            await connection.close()


async def drop_connections(runtime: Runtime) -> None:
    """What a restart does to the pool: every connection it holds is cut by the server."""
    backends = await pooled_backends(runtime)
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", backends
        )

        async def gone() -> bool:
            alive = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", backends
            )
            return alive == 0

        await eventually(gone, 10)
    finally:
        await admin.close()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


async def jobs_in(runtime: Runtime, tenant: str) -> int:
    async with runtime.session_factory() as session:
        count = await session.scalar(
            select(func.count()).select_from(Job).where(Job.tenant_id == tenant)
        )
    return int(count or 0)


async def test_a_read_meeting_dropped_connections_fails_cleanly_and_the_next_one_succeeds(
    postgres: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(postgres.session_factory, tenant, [{}, {}])
    await drop_connections(postgres)

    async with asyncio.timeout(10):
        first = await gql.raw(JOBS)
    second = await gql.raw(JOBS)

    assert first["data"] is None
    assert error_codes(first) == ["INTERNAL"]
    assert second == {
        "data": {
            "jobs": {
                "totalCount": 2,
                "edges": [{"node": {"number": job.number}} for job in reversed(world.jobs)],
            }
        }
    }


async def test_a_write_meeting_dropped_connections_writes_nothing_and_the_next_one_succeeds(
    postgres: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(postgres.session_factory, tenant, [])
    await drop_connections(postgres)

    async with asyncio.timeout(10):
        first = await gql.raw(DISPATCH, input={"workflow": "se-rca-fix"})
    second = await gql.raw(DISPATCH, input={"workflow": "se-rca-fix"})

    assert first["data"] is None
    assert error_codes(first) == ["INTERNAL"]
    assert second["data"]["dispatchJob"]["errors"] == []
    assert await jobs_in(postgres, tenant) == 1

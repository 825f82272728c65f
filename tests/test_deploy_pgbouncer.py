"""PostgreSQL behind PgBouncer in transaction mode: with JOBMONITOR_DATABASE_STATEMENT_CACHE=0
reads, writes and migrations go through the pooler, and the event bus LISTENs on its own
direct URL (JOBMONITOR_EVENT_BUS_URL), so live updates still cross processes."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from server.app import create_app
from server.db import migrate
from server.runtime import Runtime
from server.settings import Settings
from tests.support.graphql import GraphQLClient, serving
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.pgbouncer import through_pgbouncer
from tests.support.servers import serve
from tests.support.websocket import PROTOCOLS, graphql_ws

pytestmark = pytest.mark.postgres
STATUS = "subscription { jobStatusChanged { sequence status job { number } } }"
PAGE = "{ jobs(first: 20) { totalCount edges { node { number status steps { name } } } } }"
CONCURRENT_PAGES = 40


@pytest.fixture
def pooled_settings(database_url: str, pgbouncer_port: int, tenant: str) -> Settings:
    if not database_url.startswith("postgresql"):
        pytest.skip("PgBouncer pools PostgreSQL")
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=through_pgbouncer(database_url, pgbouncer_port),
        database_statement_cache=0,
        # concurrent identical pages must each run, on connections of their own
        share_identical_reads=False,
        event_bus_url=database_url,
        default_tenant=tenant,
        auth="disabled",
    )


@pytest.fixture
async def pooled(pooled_settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(pooled_settings)
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_reads_writes_and_migrations_work_through_pgbouncer_without_a_statement_cache(
    pooled: Runtime, tenant: str
) -> None:
    # given jobs written through the pooler
    await migrate.prepare(pooled.engine, migrate=True)
    await given_workflows(pooled, tenant)
    jobs = [await dispatch_job(pooled, tenant) for _ in range(5)]
    await cancel_job(pooled, tenant, jobs[0].number)

    # when many pages are read at once (each connection's statements land on whichever
    # server connection PgBouncer picks)
    async with serving(create_app(runtime=pooled)) as http:
        gql = GraphQLClient(http)
        pages = await asyncio.gather(*(gql.execute(PAGE) for _ in range(CONCURRENT_PAGES)))

    # then every read answered, with every write
    assert {page["jobs"]["totalCount"] for page in pages} == {5}
    statuses = {edge["node"]["status"] for edge in pages[0]["jobs"]["edges"]}
    assert statuses == {"PENDING", "CANCELLED"}


async def test_with_its_statement_cache_asyncpg_fails_behind_pgbouncer(
    pooled_settings: Settings, tenant: str
) -> None:
    # the control: the same reads with asyncpg's default cache of prepared statements
    cached = pooled_settings.model_copy(update={"database_statement_cache": 100})
    runtime = Runtime.from_settings(cached)
    try:
        async with serving(create_app(runtime=runtime)) as http:
            gql = GraphQLClient(http)
            pages = await asyncio.gather(*(gql.raw(PAGE) for _ in range(CONCURRENT_PAGES)))
    finally:
        await runtime.close()

    assert any(page.get("errors") for page in pages)


@pytest.mark.parametrize("protocol", PROTOCOLS[:1])
async def test_live_updates_cross_processes_that_reach_postgresql_through_pgbouncer(
    pooled: Runtime, pooled_settings: Settings, tenant: str, protocol: str
) -> None:
    # given a subscriber of one replica, whose bus LISTENs on the direct URL
    await given_workflows(pooled, tenant)
    other = Runtime.from_settings(pooled_settings)
    try:
        async with (
            serve(create_app(runtime=pooled)) as server,
            graphql_ws(server.ws_url, protocol) as client,
        ):
            await client.subscribe("s", STATUS)
            await pooled.live.start()
            await _until_ready(server.http_url)

            # when another process writes through PgBouncer
            job = await dispatch_job(other, tenant)

            # then the subscriber hears of it
            event = (await client.next("s"))["jobStatusChanged"]
    finally:
        await other.close()
    assert (event["job"]["number"], event["status"]) == (job.number, "PENDING")


async def _until_ready(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/readyz")
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "event_bus": "ok"}}

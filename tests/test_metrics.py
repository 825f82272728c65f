"""Prometheus /metrics: off by default, its own token, and the numbers it shows moving as the
API is used (requests, jobs, queues, outbox, live subscribers, fan-out, the event bus and
Temporal lookups)."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from server.app import create_app
from server.auth import Role
from server.net import free_port
from server.observability.metrics import REGISTRY
from server.runtime import Runtime
from tests.support.auth import bearer, token_for
from tests.support.graphql import serving
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.live import drop_listen_connections, streams_registered
from tests.support.servers import serve
from tests.support.timeline import unique_number, with_timeline
from tests.support.waiting import eventually
from tests.support.websocket import TRANSPORT_WS, graphql_ws

from .test_timeline_outage import PAGE, add_jobs

TOKEN = "scrape-" + uuid.uuid4().hex
STATUS = "subscription { jobStatusChanged { status job { number } } }"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def with_metrics(runtime: Runtime, **settings: object) -> Runtime:
    changed = runtime.settings.model_copy(update={"metrics_token": SecretStr(TOKEN), **settings})
    return replace(runtime, settings=changed)


@pytest.fixture
def metrics_app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=with_metrics(runtime))


@pytest.fixture
async def metrics_client(metrics_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(metrics_app) as http:
        yield http


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_do_not_exist_without_their_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_a_scrape_needs_the_metrics_token_not_an_api_token(
    runtime: Runtime, metrics_client: httpx.AsyncClient
) -> None:
    api_token = await token_for(runtime, Role.ADMIN)

    unauthenticated = await metrics_client.get("/metrics")
    with_api_token = await metrics_client.get("/metrics", headers=bearer(api_token))
    scraped = await metrics_client.get("/metrics", headers=bearer(TOKEN))

    assert unauthenticated.status_code == with_api_token.status_code == 401
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")


async def test_requests_are_counted_and_timed_by_operation_name_and_outcome(
    metrics_client: httpx.AsyncClient,
) -> None:
    # given an operation name no other test uses
    name = f"Probe{uuid.uuid4().hex[:8]}"
    before = await scrape(metrics_client)

    # when it runs three times, once with a field error and once with an invalid document
    for query in [f"query {name} {{ jobs(first: 1) {{ totalCount }} }}"] * 3 + [
        f"query {name} {{ jobs(first: 1000) {{ totalCount }} }}",
        f"query {name} {{ jobs(first: 1) {{ noSuchField }} }}",
    ]:
        await metrics_client.post("/graphql", json={"query": query, "operationName": name})
    after = await scrape(metrics_client)

    # then each outcome is counted and every one timed
    counted = "jobmonitor_graphql_requests_total"
    for outcome, count in (("ok", 3), ("error", 1), ("refused", 1)):
        moved = value(after, counted, operation=name, outcome=outcome) - value(
            before, counted, operation=name, outcome=outcome
        )
        assert moved == count, outcome
    assert value(after, "jobmonitor_graphql_request_seconds_count", operation=name) == 5


async def test_jobs_queues_and_the_outbox_are_read_at_scrape_time(
    runtime: Runtime, tenant: str, metrics_client: httpx.AsyncClient
) -> None:
    # given two jobs dispatched with no Temporal to deliver them to
    await given_workflows(runtime, tenant)
    for _ in range(2):
        await dispatch_job(runtime, tenant)

    samples = await scrape(metrics_client)

    # then they are pending, queued on their workflow, and waiting in the outbox
    assert value(samples, "jobmonitor_jobs", tenant=tenant, status="PENDING") == 2
    assert value(samples, "jobmonitor_queue_length", tenant=tenant, workflow="se-rca-fix") == 2
    assert value(samples, "jobmonitor_outbox_depth") >= 2
    assert value(samples, "jobmonitor_outbox_oldest_age_seconds") > 0


async def test_live_subscribers_and_the_fanout_lag_are_measured(
    runtime: Runtime, tenant: str, metrics_app: FastAPI
) -> None:
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    lags_before = REGISTRY.get_sample_value("jobmonitor_live_fanout_lag_seconds_count") or 0.0
    async with serve(metrics_app) as server, graphql_ws(server.ws_url, TRANSPORT_WS) as ws:
        # given a live subscriber
        await ws.subscribe("s", STATUS)
        await streams_registered(runtime)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            samples = await scrape(http)
        # when a job changes status
        await cancel_job(runtime, tenant, job.number)
        await ws.next("s")

    # then the scrape saw the subscriber and its cohort, and the change's lag was measured
    assert value(samples, "jobmonitor_live_subscribers") >= 1
    assert value(samples, "jobmonitor_live_cohorts") >= 1
    assert value(samples, "jobmonitor_live_hub_streams") >= 1
    lags = REGISTRY.get_sample_value("jobmonitor_live_fanout_lag_seconds_count") or 0.0
    assert lags > lags_before


async def test_temporal_lookups_are_timed_counted_and_held_back(
    runtime: Runtime, tenant: str
) -> None:
    # given jobs whose timelines live in a Temporal that refuses connections
    await add_jobs(runtime, tenant, [unique_number() for _ in range(2)])
    down = with_timeline(
        with_metrics(runtime),
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_lookup_timeout=0.5,
    )
    async with serving(create_app(runtime=down)) as http:
        before = await scrape(http)
        # when the page is read twice
        for _ in range(2):
            await http.post("/graphql", json={"query": PAGE})
        after = await scrape(http)

    # then the first read missed the cache and failed to reach Temporal, the second did not try
    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("jobmonitor_temporal_cache_lookups_total", cache="runs", result="miss") >= 2
    assert moved("jobmonitor_temporal_call_seconds_count", call="list", outcome="unreachable") == 1
    assert moved("jobmonitor_temporal_held_back_total", reason="quiet") == 1


async def test_event_bus_reconnects_are_counted(database_url: str, runtime: Runtime) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the LISTEN connection exists on PostgreSQL only")
    await runtime.live.start()
    before = reconnects()

    await drop_listen_connections(runtime)

    await eventually(lambda: reconnects() > before)


def reconnects() -> float:
    return REGISTRY.get_sample_value("jobmonitor_event_bus_reconnects_total") or 0.0

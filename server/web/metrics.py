"""/metrics for Prometheus (the instruments of `server.observability.metrics`, and gauges read
at scrape time): off unless JOBMONITOR_METRICS_TOKEN is set, and then only for a
scraper that sends that token (`Authorization: Bearer <token>`): API tokens do not open it."""

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.enums import JobStatus
from server.observability.metrics import REGISTRY
from server.reads import monitoring
from server.reads.monitoring import Outbox
from server.runtime import Runtime
from server.web.websocket.cohorts import CohortRegistry


@dataclass(frozen=True)
class Snapshot:
    jobs_by_status: list[tuple[str, JobStatus, int]]
    queued_by_workflow: list[tuple[str, str, int]]
    outbox: Outbox
    cohorts: int
    subscribers: int
    hub_streams: int


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot
        jobs = GaugeMetricFamily(
            "jobmonitor_jobs", "Jobs by tenant and status.", labels=["tenant", "status"]
        )
        for tenant, status, count in snapshot.jobs_by_status:
            jobs.add_metric([tenant, status.value], count)
        yield jobs
        queued = GaugeMetricFamily(
            "jobmonitor_queue_length",
            "Jobs waiting for an agent (PENDING), by tenant and workflow.",
            labels=["tenant", "workflow"],
        )
        for tenant, workflow, count in snapshot.queued_by_workflow:
            queued.add_metric([tenant, workflow], count)
        yield queued
        yield GaugeMetricFamily(
            "jobmonitor_outbox_depth",
            "Dispatches waiting in the outbox to be delivered to Temporal.",
            value=snapshot.outbox.depth,
        )
        oldest = snapshot.outbox.oldest
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "jobmonitor_outbox_oldest_age_seconds",
            "Age of the oldest undelivered dispatch in the outbox (0 when it is empty).",
            value=max(0.0, age),
        )
        yield GaugeMetricFamily(
            "jobmonitor_live_subscribers",
            "Live subscriptions over websockets in this process.",
            value=snapshot.subscribers,
        )
        yield GaugeMetricFamily(
            "jobmonitor_live_cohorts",
            "Running cohorts (subscriptions executed once for all their subscribers).",
            value=snapshot.cohorts,
        )
        yield GaugeMetricFamily(
            "jobmonitor_live_hub_streams",
            "Streams registered with the live hub (status feeds and job, log, count signals).",
            value=snapshot.hub_streams,
        )


def exposition(snapshot: Snapshot) -> bytes:
    """The Prometheus text format: the instruments, then the snapshot's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    return generate_latest(REGISTRY) + generate_latest(registry)


def mount_metrics(app: FastAPI, token: str) -> None:
    expected = f"Bearer {token}".encode()

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(
                "a scrape needs the metrics token",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        runtime: Runtime = request.app.state.runtime
        cohorts: CohortRegistry = request.app.state.live_cohorts
        async with runtime.read_session_factory() as session:
            snapshot = await _snapshot(session, runtime, cohorts)
        return Response(exposition(snapshot), media_type=CONTENT_TYPE_LATEST)


async def _snapshot(session: AsyncSession, runtime: Runtime, cohorts: CohortRegistry) -> Snapshot:
    running, subscribers = cohorts.stats()
    return Snapshot(
        jobs_by_status=await monitoring.jobs_by_status(session),
        queued_by_workflow=await monitoring.queued_by_workflow(session),
        outbox=await monitoring.outbox(session),
        cohorts=running,
        subscribers=subscribers,
        hub_streams=runtime.live.watching(),
    )

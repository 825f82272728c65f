"""OpenTelemetry traces, on when OTEL_EXPORTER_OTLP_ENDPOINT is set, and JSON logs, seen from
outside: one `jobmonitor serve` process exporting to a collector of the test's own.

On SQLite only: neither depends on the database (the SQL spans come from the engine's events,
the same on both), and a process of its own costs seconds to start."""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from server.net import free_port
from server.runtime import Runtime
from tests.support.replica import Replica, replica
from tests.support.servers import LiveServer, serve
from tests.support.timeline import unique_number
from tests.support.waiting import eventually

from .test_timeline_outage import add_jobs

REQUEST_ID = "jobmonitor.request_id"
PAGE = """
query TracedPage { jobs(first: 5) { edges { node { number workflow { slug }
  timeline { available } } } } }
"""


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver: keeps every span it is sent."""

    spans: list[ExportedSpan] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/traces")
        async def traces(request: Request) -> Response:
            export = ExportTraceServiceRequest()
            export.ParseFromString(await request.body())
            for resource in export.resource_spans:
                for scope in resource.scope_spans:
                    self.spans.extend(_exported(span) for span in scope.spans)
            return Response(b"", media_type="application/x-protobuf")

        return app

    def named(self, name: str) -> list[ExportedSpan]:
        return [span for span in self.spans if span.name == name]


def _exported(span: Any) -> ExportedSpan:
    return ExportedSpan(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex(),
        attributes={a.key: a.value.string_value or a.value.int_value for a in span.attributes},
    )


@pytest.fixture(scope="module")
async def collector() -> AsyncIterator[tuple[Collector, LiveServer]]:
    received = Collector()
    async with serve(received.app()) as server:
        yield received, server


@pytest.fixture(scope="module")
def traced_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
async def traced(
    database_url: str,
    traced_tenant: str,
    collector: tuple[Collector, LiveServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Replica, Path]]:
    """`jobmonitor serve` with tracing on, JSON logs, and a Temporal that is not there."""
    if not database_url.startswith("sqlite"):
        pytest.skip("tracing and logs do not depend on the database: tested on SQLite")
    _, endpoint = collector
    log = tmp_path_factory.mktemp("traced") / "serve.log"
    environment = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint.http_url,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "JOBMONITOR_LOG_FORMAT": "json",
        "JOBMONITOR_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "JOBMONITOR_TEMPORAL_LOOKUP_TIMEOUT": "0.5",
    }
    with log.open("wb") as stderr:
        async with replica(
            database_url, traced_tenant, environment=environment, stderr=stderr
        ) as api:
            yield api, log


async def test_an_operation_is_traced_with_its_request_id_loads_sql_and_temporal_calls(
    shared_runtime: Runtime,
    traced_tenant: str,
    collector: tuple[Collector, LiveServer],
    traced: tuple[Replica, Path],
) -> None:
    received, _ = collector
    api, _ = traced
    # when the page is asked for, with a job whose timeline needs Temporal
    await add_jobs(shared_runtime, traced_tenant, [unique_number()])
    async with httpx.AsyncClient(base_url=api.http_url) as http:
        response = await http.post("/graphql", json={"query": PAGE})
    assert response.json()["data"]["jobs"]["edges"], response.text
    request_id = response.headers["x-request-id"]

    # then its operation span carries the request id, and its trace holds the loaders' reads,
    # their SQL statements and the Temporal call
    def operation() -> ExportedSpan | None:
        spans = received.named("graphql.operation")
        return next((s for s in spans if s.attributes.get(REQUEST_ID) == request_id), None)

    await eventually(lambda: operation() is not None and _has_temporal(received), 10)
    root = operation()
    assert root is not None
    assert root.attributes["graphql.operation.name"] == "TracedPage"
    in_trace = [span for span in received.spans if span.trace_id == root.trace_id]
    names = {span.name for span in in_trace}
    assert "load ListReader.job_page" in names
    assert "sql SELECT" in names
    assert "temporal.list" in names
    assert "load timeline.summaries" in names
    by_id = {span.span_id: span for span in in_trace}
    sql = next(span for span in in_trace if span.name == "sql SELECT")
    assert by_id[sql.parent_id].name.startswith("load ")


def _has_temporal(received: Collector) -> bool:
    return bool(received.named("temporal.list"))


async def test_logs_are_json_lines_with_the_request_id(traced: tuple[Replica, Path]) -> None:
    api, log = traced
    async with httpx.AsyncClient(base_url=api.http_url) as http:
        response = await http.get("/healthz")
    request_id = response.headers["x-request-id"]

    def logged() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    await eventually(lambda: any(line.get("request_id") == request_id for line in logged()))
    lines = logged()
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    access = next(line for line in lines if line.get("request_id") == request_id)
    assert access["logger"] == "uvicorn.access"
    assert "/healthz" in access["message"]

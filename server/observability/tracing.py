"""OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then spans for each
GraphQL operation over HTTP (with its request id), the reads of the loaders, every SQL
statement and every Temporal call go to that OTLP/HTTP endpoint (the exporter also reads the
other standard OTEL_* variables: headers, OTEL_SERVICE_NAME, sampling).

Switched off, `span()` is a shared no-op context: the hot paths pay one flag test."""

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
REQUEST_ID = "jobmonitor.request_id"
_NOTHING: AbstractContextManager[Any] = nullcontext()
_tracer = trace.get_tracer("jobmonitor")
_provider: TracerProvider | None = None


def tracing_enabled() -> bool:
    return _provider is not None


def span(
    name: str, attributes: Mapping[str, str | int | float | bool] | None = None
) -> AbstractContextManager[Any]:
    """A span around the block when tracing is on, nothing otherwise."""
    if _provider is None:
        return _NOTHING
    return _tracer.start_as_current_span(name, attributes=attributes)


def start_tracing(engine: AsyncEngine) -> bool:
    """Sets up the exporter once per process, if OTEL_EXPORTER_OTLP_ENDPOINT asks for it, and
    traces the engine's SQL. Returns whether tracing is on."""
    global _provider
    if not os.environ.get(ENDPOINT_VARIABLE):
        return False
    if _provider is None:
        service = os.environ.get("OTEL_SERVICE_NAME", "jobmonitor")
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _provider = provider
    _trace_sql(engine.sync_engine)
    return True


def stop_tracing() -> None:
    """Sends the spans still buffered (at shutdown)."""
    if _provider is not None:
        _provider.force_flush()


def _trace_sql(engine: Engine) -> None:
    if event.contains(engine, "before_cursor_execute", _sql_started):
        return
    event.listen(engine, "before_cursor_execute", _sql_started)
    event.listen(engine, "after_cursor_execute", _sql_ended)
    event.listen(engine, "handle_error", _sql_failed)


_SPAN_KEY = "jobmonitor.span"


def _sql_started(connection: Connection, _cursor: object, statement: str, *_args: object) -> None:
    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    sql_span = _tracer.start_span(
        f"sql {operation}",
        kind=trace.SpanKind.CLIENT,
        attributes={
            "db.system": connection.dialect.name,
            "db.statement": statement[:2000],
        },
    )
    connection.info.setdefault(_SPAN_KEY, []).append(sql_span)


def _sql_ended(connection: Connection, *_args: object) -> None:
    spans: list[Span] = connection.info.get(_SPAN_KEY) or []
    if spans:
        spans.pop().end()


def _sql_failed(context: Any) -> None:
    connection: Connection | None = context.connection
    spans: list[Span] = (connection.info.get(_SPAN_KEY) or []) if connection is not None else []
    if spans:
        failed = spans.pop()
        failed.set_status(Status(StatusCode.ERROR, str(context.original_exception)))
        failed.end()

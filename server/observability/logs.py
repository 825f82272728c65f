"""Logging for the command line's processes: plain text, or with JOBMONITOR_LOG_FORMAT=json one
JSON object per line (time, level, logger, message, request id, trace and span ids when
tracing is on, exception), for log pipelines."""

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn.config
from opentelemetry import trace

from server.settings import LogFormat, Settings

REQUEST_ID: ContextVar[str] = ContextVar("jobmonitor_request_id", default="")
"""The id of the HTTP request or websocket being served (set by the request id middleware)."""

TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


HANDLER_NAME = "jobmonitor"


def configure_logging(settings: Settings) -> None:
    """The root logger at INFO, in the configured format, on standard error (replacing the
    handler an earlier call set up, leaving others alone)."""
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(earlier)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's own logging set-up for text; none for JSON, so its records reach the root
    logger's JSON handler."""
    if settings.log_format is LogFormat.JSON:
        return None
    return uvicorn.config.LOGGING_CONFIG

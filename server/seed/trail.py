"""The rows a job leaves behind: its steps, its status events and its log lines."""

from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import null

from server.db.models import pipeline_id
from server.domain.enums import JobStatus, LogStream, StepStatus

from . import catalog
from .catalog import WorkflowSpec
from .draws import Random, one_of
from .requests import Request
from .stories import Cast, Lifecycle

Row = dict[str, Any]

MAX_LOG_LINES = 5
MIN_LOG_LINES = 3

SQL_NULL = null()
"""For JSON columns: None would be stored as the JSON document `null`."""

_FIRST = itemgetter(0)
_from_timestamp = datetime.fromtimestamp
"""Called directly where rows are made by the hundred thousand: a wrapper call costs."""


def at(seconds: float) -> datetime:
    return _from_timestamp(seconds, UTC)


def maybe_at(seconds: float | None) -> datetime | None:
    return None if seconds is None else at(seconds)


def step_rows(
    tenant: str, number: int, spec: WorkflowSpec, request: Request, life: Lifecycle
) -> list[Row]:
    rows = []
    ticket = request.ticket
    for index, (name, run) in enumerate(zip(spec.steps, life.steps, strict=True)):
        started, completed = run.started, run.completed
        output: Any = SQL_NULL
        error = None
        if run.status is StepStatus.COMPLETED and started is not None and completed is not None:
            output = {"result": "ok", "duration_ms": int((completed - started) * 1000)}
        elif run.status is StepStatus.FAILED:
            error = life.error
        elif run.status is StepStatus.SKIPPED and started is not None:
            error = "Interrupted: the job was cancelled"
        rows.append(
            {
                "tenant_id": tenant,
                "job_number": number,
                "index": index,
                "name": name,
                "status": run.status,
                "attempt": run.attempt,
                "started_at": None if started is None else _from_timestamp(started, UTC),
                "completed_at": None if completed is None else _from_timestamp(completed, UTC),
                "input": {"ticket_url": ticket.url} if index == 0 and ticket else SQL_NULL,
                "output": output,
                "error": error,
            }
        )
    return rows


def event_rows(tenant: str, number: int, life: Lifecycle) -> list[Row]:
    return [
        {
            "tenant_id": tenant,
            "job_number": number,
            "from_status": change.source,
            "to_status": change.target,
            "at": _from_timestamp(change.at, UTC),
            "actor": change.actor,
            "message": change.message,
        }
        for change in life.transitions
    ]


def log_rows(
    random: Random,
    tenant: str,
    number: int,
    status: JobStatus,
    spec: WorkflowSpec,
    cast: Cast,
    life: Lifecycle,
) -> list[Row]:
    """A few lines of output on all three streams, for a job that started."""
    if life.started is None:
        return []
    lines = [(life.started, LogStream.SYSTEM, f"Started on {cast.agent} as {pipeline_id(number)}")]
    total = len(spec.steps)
    for index, run in enumerate(life.steps):
        if run.started is None:
            continue
        name = spec.steps[index]
        lines.append((run.started, LogStream.STDOUT, f"==> [{index + 1}/{total}] {name}"))
        if run.attempt > 1:
            retry = f"{name}: attempt {run.attempt - 1} failed, retrying"
            lines.append((run.started + 0.5, LogStream.STDERR, retry))
    if random() < 0.3:
        lines.append((life.started + 1.0, LogStream.STDERR, one_of(random, catalog.WARNINGS)))
    if status is JobStatus.FAILED and life.completed is not None:
        lines.append((life.completed, LogStream.STDERR, f"error: {life.error}"))
    if life.completed is not None:
        lines.append((life.completed, LogStream.SYSTEM, f"Finished: {status.value}"))
    while len(lines) < MIN_LOG_LINES:
        lines.append((lines[-1][0] + 1.0, LogStream.STDOUT, "still working on the current step"))
    lines.sort(key=_FIRST)
    if len(lines) > MAX_LOG_LINES:
        lines = lines[: MAX_LOG_LINES - 1] + lines[-1:]
    return [
        {
            "tenant_id": tenant,
            "job_number": number,
            "sequence": sequence,
            "stream": stream,
            "message": message,
            "at": _from_timestamp(seconds, UTC),
        }
        for sequence, (seconds, stream, message) in enumerate(lines, start=1)
    ]

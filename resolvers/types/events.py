"""Status events and log lines of a job."""

from datetime import datetime

import strawberry

from server.db import models

from .enums import JobStatus, LogStream


@strawberry.type
class JobEvent:
    sequence: int
    from_status: JobStatus | None
    to_status: JobStatus
    at: datetime
    actor: str | None
    message: str | None

    @classmethod
    def from_row(cls, row: models.JobEvent) -> "JobEvent":
        return cls(
            sequence=row.sequence,
            from_status=row.from_status,
            to_status=row.to_status,
            at=row.at,
            actor=row.actor,
            message=row.message,
        )


@strawberry.type
class LogLine:
    sequence: int
    stream: LogStream
    message: str
    at: datetime
    step: int | None = strawberry.field(
        description="Index of the step whose process wrote the line; null for job-level lines."
    )
    attempt: int | None

    @classmethod
    def from_row(cls, row: models.LogLine) -> "LogLine":
        return cls(
            sequence=row.sequence,
            stream=row.stream,
            message=row.message,
            at=row.at,
            step=row.step,
            attempt=row.attempt,
        )


@strawberry.type
class LogLineEdge:
    cursor: str
    node: LogLine


@strawberry.type
class LogConnection:
    edges: list[LogLineEdge]
    page_info: strawberry.relay.PageInfo

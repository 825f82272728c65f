"""Steps, metrics and the trigger context of a job."""

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from server.db import models

from .enums import StepStatus


@strawberry.type
class JobStep:
    index: int
    name: str
    status: StepStatus
    attempt: int = strawberry.field(description="1 on the first try; retryCount = attempt - 1.")
    started_at: datetime | None
    completed_at: datetime | None
    input: JSON | None
    output: JSON | None
    error: str | None

    @strawberry.field
    def retry_count(self) -> int:
        return self.attempt - 1

    @strawberry.field
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()

    @classmethod
    def from_row(cls, row: models.JobStep) -> "JobStep":
        return cls(
            index=row.index,
            name=row.name,
            status=row.status,
            attempt=row.attempt,
            started_at=row.started_at,
            completed_at=row.completed_at,
            input=JSON(row.input),
            output=JSON(row.output),
            error=row.error,
        )


@strawberry.type
class JobMetrics:
    total_duration_seconds: float | None
    steps_succeeded: int
    steps_failed: int
    retry_count: int
    cost_usd: float | None

    @classmethod
    def from_steps(
        cls, steps: list[models.JobStep], *, duration: float | None, cost_usd: float | None
    ) -> "JobMetrics":
        return cls(
            total_duration_seconds=duration,
            steps_succeeded=sum(step.status == StepStatus.COMPLETED for step in steps),
            steps_failed=sum(step.status == StepStatus.FAILED for step in steps),
            retry_count=sum(step.attempt - 1 for step in steps),
            cost_usd=cost_usd,
        )


TRIGGER_PREFIX = "trigger_"


@strawberry.type
class JobTrigger:
    """What started an automation-triggered job: the `trigger_*` variables of its input."""

    ticket_url: str | None = None
    project: str | None = None
    assignee: str | None = None
    status: str | None = None
    issue_key: str | None = None
    issue_type: str | None = None

    @classmethod
    def from_input(cls, job_input: object) -> "JobTrigger | None":
        if not isinstance(job_input, dict):
            return None
        fields = {
            name: str(job_input[TRIGGER_PREFIX + name])
            for name in ("ticket_url", "project", "assignee", "status", "issue_key", "issue_type")
            if job_input.get(TRIGGER_PREFIX + name) is not None
        }
        return cls(**fields) if fields else None

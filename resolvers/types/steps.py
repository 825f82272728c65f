"""Metrics and the trigger context of a job."""

import strawberry

from server.db import models
from server.domain.dispatch import TRIGGER_NAMES, TRIGGER_PREFIX

from .enums import StepStatus


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
            for name in TRIGGER_NAMES
            if job_input.get(TRIGGER_PREFIX + name) is not None
        }
        return cls(**fields) if fields else None

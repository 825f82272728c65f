"""The statistics dashboard: counts per bucket of time, and figures per workflow."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from server.domain.stats import StatsBucket, failure_rate
from server.reads.stats import WorkflowFigures

from .counts import JobCounts

if TYPE_CHECKING:
    from .jobs import Workflow

strawberry.enum(StatsBucket, description="Buckets of time in UTC; weeks start on Mondays.")


@strawberry.type
class JobStatsBucket:
    start: datetime
    counts: JobCounts


@strawberry.type
class WorkflowStats:
    workflow: Annotated["Workflow", strawberry.lazy("resolvers.types.jobs")]
    total: int
    failed: int
    failure_rate: float = strawberry.field(description="failed / finished, 0 to 1.")
    duration_p50_seconds: float | None
    duration_p95_seconds: float | None
    cost_usd: float | None

    @classmethod
    def build(cls, figures: WorkflowFigures, workflow: "Workflow") -> "WorkflowStats":
        return cls(
            workflow=workflow,
            total=figures.total,
            failed=figures.failed,
            failure_rate=failure_rate(figures.failed, figures.finished),
            duration_p50_seconds=figures.duration_p50,
            duration_p95_seconds=figures.duration_p95,
            cost_usd=figures.cost_usd,
        )


@strawberry.type
class JobStats:
    buckets: list[JobStatsBucket]
    workflows: list[WorkflowStats]

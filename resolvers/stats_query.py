"""jobStats: the dashboard's counts per bucket of time and figures per workflow."""

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers.context import Info
from resolvers.types.counts import JobCounts
from resolvers.types.datetimes import offset_required
from resolvers.types.filters import JobFilter, domain_filter
from resolvers.types.jobs import Workflow
from resolvers.types.stats import JobStats, JobStatsBucket, WorkflowStats
from server.domain.stats import StatsBucket, StatsWindow


@strawberry.type
class StatsQuery:
    @strawberry.field(
        description="Jobs created in [from, to): counts per status per bucket (UTC), and per "
        "workflow its totals, failure rate, duration percentiles and cost. At most 400 buckets."
    )
    async def job_stats(
        self,
        info: Info,
        filter: JobFilter | None = None,
        *,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        bucket: StatsBucket,
    ) -> JobStats:
        window = StatsWindow.of(
            offset_required(from_, field="from"), offset_required(to, field="to"), bucket
        )
        lists, rows = info.context.loaders.lists, info.context.loaders.rows
        figures = await lists.job_stats(domain_filter(filter), window)
        workflows = await rows.workflow.load_many([f.workflow_id for f in figures.workflows])
        return JobStats(
            buckets=[
                JobStatsBucket(start=start, counts=JobCounts.from_counts(counts))
                for start, counts in figures.buckets
            ],
            workflows=[
                WorkflowStats.build(figure, Workflow.from_row(row))
                for figure, row in zip(figures.workflows, workflows, strict=True)
                if row is not None
            ],
        )

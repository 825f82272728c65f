"""The Subscription root: thin resolvers over the live streams of `server.live`.

Over the websocket endpoint, subscribers that send the same operation with the same variables
in the same tenant (and role) share one run of these resolvers (see `server.web.websocket.cohorts`);
`SHARING` says when that is allowed.
"""

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TypeVar

import strawberry

from resolvers.context import Info
from resolvers.ids import job_number
from resolvers.types.counts import JobCounts
from resolvers.types.events import LogLine
from resolvers.types.filters import JobFilter, domain_filter
from resolvers.types.jobs import Job, jobs_from_rows
from resolvers.types.status_event import JobStatusEvent
from resolvers.types.timeline import Timeline
from server.domain.errors import OrchestratorUnavailable
from server.live import streams
from server.live.streams import Sharing

T = TypeVar("T")

SHARING = {
    "jobStatusChanged": Sharing.LIVE,
    "jobUpdated": Sharing.LIVE,
    "jobCounts": Sharing.LATEST,
    "jobLogs": Sharing.NEVER,
    "jobTimeline": Sharing.LATEST,
}


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every status change of a job matching the filter; with `after`, missed "
        "events are replayed first."
    )
    async def job_status_changed(
        self, info: Info, filter: JobFilter | None = None, after: int | None = None
    ) -> AsyncGenerator[JobStatusEvent, None]:
        changes = streams.status_changes(
            info.context.live,
            tenant=info.context.tenant,
            job_filter=domain_filter(filter),
            after=after,
        )
        async for change in _fresh(info, changes):
            yield await JobStatusEvent.build(info, change)

    @strawberry.subscription(
        description="The job, each time anything about it changes (status, step, output, error)."
    )
    async def job_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Job, None]:
        updates = streams.job_updates(
            info.context.live, tenant=info.context.tenant, number=job_number(id)
        )
        async for row in _fresh(info, updates):
            (job,) = await jobs_from_rows(info, [row], detail=True)
            yield job

    @strawberry.subscription(
        description=(
            "Log lines of one job (or, with `step`, of one of its steps): those after `after` "
            "first, then live ones."
        )
    )
    async def job_logs(
        self, info: Info, id: strawberry.ID, after: int | None = None, step: int | None = None
    ) -> AsyncGenerator[LogLine, None]:
        lines = streams.log_lines(
            info.context.live,
            tenant=info.context.tenant,
            number=job_number(id),
            after=after,
            step=step,
        )
        async for row in _fresh(info, lines):
            yield LogLine.from_row(row)

    @strawberry.subscription(
        description="The job's timeline now, then each time the job changes (its activities "
        "start, retry and end): one lookup of Temporal per change, shared by every subscriber "
        "of the job."
    )
    async def job_timeline(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Timeline, None]:
        context = info.context
        if context.timeline is None:
            raise OrchestratorUnavailable("Temporal is not configured for this server")
        views = context.timeline.watches.views(
            context.live, tenant=context.tenant, number=job_number(id)
        )
        async for view in _fresh(info, views):
            yield Timeline.of_view(view)

    @strawberry.subscription(description="Live tab counts.")
    async def job_counts(
        self, info: Info, filter: JobFilter | None = None
    ) -> AsyncGenerator[JobCounts, None]:
        counts = streams.status_counts(
            info.context.live, tenant=info.context.tenant, job_filter=domain_filter(filter)
        )
        async for value in _fresh(info, counts):
            yield JobCounts.from_counts(value)


async def _fresh(info: Info, stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """Each item of a stream, with new loaders so its fields read the rows as they are now."""
    async with aclosing(stream):  # type: ignore[type-var]
        async for item in stream:
            info.context.renew_loaders()
            yield item

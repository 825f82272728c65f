"""A status change as subscribers see it."""

from datetime import datetime
from typing import Self

import strawberry

from resolvers.context import Info
from server.live.hub import StatusChange

from .enums import JobStatus
from .jobs import Job, jobs_from_rows


@strawberry.type
class JobStatusEvent:
    sequence: int = strawberry.field(
        description="Monotonic across all jobs; pass it back as `after` to resume."
    )
    job: Job
    previous_status: JobStatus | None
    status: JobStatus
    at: datetime

    @classmethod
    async def build(cls, info: Info, change: StatusChange) -> Self:
        event = change.event
        (job,) = await jobs_from_rows(info, [change.job], detail=False)
        return cls(
            sequence=event.sequence,
            job=job,
            previous_status=event.from_status,
            status=event.to_status,
            at=event.at,
        )

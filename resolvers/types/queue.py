"""Where a waiting job stands in the queue."""

from datetime import datetime
from typing import Self

import strawberry

from server.domain.queue import Standing


@strawberry.type(description="Where a PENDING job stands while it waits for an agent.")
class JobQueuePosition:
    position: int = strawberry.field(
        description="1 = the next job to start on the agents it can run on."
    )
    reason: str = strawberry.field(
        description=(
            "For example 'waiting for agent build-7 (offline)' or 'waiting for a free agent: "
            "3 ahead'."
        )
    )
    since: datetime

    @classmethod
    def from_standing(cls, standing: Standing) -> Self:
        return cls(position=standing.position, reason=standing.reason, since=standing.since)

"""Tab counts and dropdown options."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from server.domain.enums import JobStatus

if TYPE_CHECKING:
    from .jobs import Agent, Workflow


@strawberry.type(description="Counts per status tab; the filter's non-status parts apply.")
class JobCounts:
    all: int
    scheduled: int
    pending: int
    running: int
    waiting: int
    paused: int
    completed: int
    failed: int
    cancelled: int

    @classmethod
    def from_counts(cls, counts: dict[JobStatus, int]) -> "JobCounts":
        per_status = {status.value.lower(): counts.get(status, 0) for status in JobStatus}
        return cls(all=sum(per_status.values()), **per_status)


@strawberry.type(description="Dropdown options, populated from existing job data.")
class JobFilterOptions:
    workflows: list[Annotated["Workflow", strawberry.lazy("resolvers.types.jobs")]]
    agents: list[Annotated["Agent", strawberry.lazy("resolvers.types.jobs")]]

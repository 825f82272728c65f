"""The JobFilter input and its translation to the domain filter."""

from datetime import datetime

import strawberry

from server.domain import filters

from .datetimes import with_offset
from .enums import JobStatus


@strawberry.input
class JobFilter:
    status: list[JobStatus] | None = strawberry.field(
        default=None, description="Any of these statuses; omitted means all."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Ticket key search, case-insensitive substring (e.g. 'scrum-32').",
    )
    workflow: list[str] | None = strawberry.field(
        default=None, description="Workflow slugs; a workflow's legacy aliases match too."
    )
    agent: list[str] | None = strawberry.field(default=None, description="Agent names.")
    created_after: datetime | None = None
    created_before: datetime | None = None
    hide_resent: bool | None = strawberry.field(
        default=None,
        description=(
            "Leave out failed and cancelled jobs that were already resent "
            "(superseded by a new job)."
        ),
    )

    def to_domain(self) -> filters.JobFilter:
        return filters.JobFilter(
            statuses=tuple(dict.fromkeys(self.status or ())),
            search=self.search.strip() or None if self.search else None,
            workflows=tuple(self.workflow or ()),
            agents=tuple(self.agent or ()),
            created_after=with_offset(self.created_after, field="createdAfter"),
            created_before=with_offset(self.created_before, field="createdBefore"),
            hide_resent=bool(self.hide_resent),
        )


def domain_filter(job_filter: JobFilter | None) -> filters.JobFilter:
    return job_filter.to_domain() if job_filter is not None else filters.JobFilter()

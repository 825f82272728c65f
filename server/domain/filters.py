"""The job filter as the services and read models understand it (not tied to GraphQL)."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from .enums import JobStatus


@dataclass(frozen=True)
class JobFilter:
    statuses: tuple[JobStatus, ...] = ()
    search: str | None = None
    workflows: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    hide_resent: bool = False
    # Scoping from a parent object (Agent.jobs, Workflow.jobs), by primary key.
    workflow_ids: tuple[int, ...] = field(default=())
    agent_ids: tuple[int, ...] = field(default=())

    def without_statuses(self) -> "JobFilter":
        return replace(self, statuses=())

    @property
    def only_statuses(self) -> bool:
        """True when nothing but the statuses narrows the jobs (the counts table answers)."""
        return self == JobFilter(statuses=self.statuses)

"""The job's timeline as the orchestrator recorded it."""

from datetime import datetime

import strawberry


@strawberry.type
class TimelineEntry:
    name: str
    duration_ms: int | None = None
    workflow: str | None = None
    agent: str | None = None


@strawberry.type
class TimelinePhase:
    name: str = strawberry.field(description="Init, Agent Setup, Execution or Teardown.")
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_ms: int | None = None
    activity_count: int = 0
    entries: list[TimelineEntry] = strawberry.field(default_factory=list)


@strawberry.type
class Timeline:
    available: bool = strawberry.field(
        description="False when the orchestrator's history cannot be read ('Temporal unreachable')."
    )
    unavailable_reason: str | None = None
    status: str | None = strawberry.field(
        default=None,
        description=(
            "Orchestrator status: COMPLETED, FAILED, RUNNING, CANCELLED, TERMINATED, TIMED_OUT, "
            "CONTINUED_AS_NEW."
        ),
    )
    event_count: int | None = None
    size_bytes: int | None = None
    short_run_id: str | None = None
    phases: list[TimelinePhase] = strawberry.field(default_factory=list)
    status_mismatch: str | None = strawberry.field(
        default=None, description="Set when the job's status and the orchestrator's disagree."
    )

    @classmethod
    def unavailable(cls, reason: str) -> "Timeline":
        return cls(available=False, unavailable_reason=reason)

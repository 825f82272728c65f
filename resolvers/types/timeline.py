"""The job's timeline as the orchestrator recorded it."""

from datetime import UTC, datetime
from typing import Self

import strawberry

from resolvers.timeline_lookup import KnownPhases, PhaseSource, TimelineLookup
from server.domain.enums import JobStatus
from server.timeline import phases as built
from server.timeline.mismatch import status_mismatch
from server.timeline.runs import RunSummary
from server.timeline.watches import TimelineView


@strawberry.type
class TimelineEntry:
    name: str = strawberry.field(description="The activity type; each step is one entry.")
    duration_ms: int | None = strawberry.field(
        description="From first scheduled to the end of its last attempt (up to now if open)."
    )
    workflow: str | None
    agent: str | None
    status: str = strawberry.field(
        description="SCHEDULED, RUNNING, COMPLETED, FAILED, TIMED_OUT or CANCELLED."
    )
    attempt: int = strawberry.field(description="The attempt running now, or the last one.")
    started_at: datetime
    completed_at: datetime | None
    last_heartbeat_at: datetime | None = strawberry.field(
        description="The last heartbeat of the attempt in flight."
    )

    @classmethod
    def build(cls, entry: built.Entry) -> Self:
        return cls(
            name=entry.name,
            duration_ms=entry.duration_ms,
            workflow=entry.workflow,
            agent=entry.agent,
            status=entry.state.value,
            attempt=entry.attempt,
            started_at=entry.started_at,
            completed_at=entry.completed_at,
            last_heartbeat_at=entry.last_heartbeat_at,
        )


@strawberry.type
class TimelinePhase:
    name: str = strawberry.field(description="Init, Agent Setup, Execution or Teardown.")
    started_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None
    activity_count: int
    entries: list[TimelineEntry]

    @classmethod
    def build(cls, phase: built.Phase) -> Self:
        return cls(
            name=phase.name,
            started_at=phase.started_at,
            completed_at=phase.completed_at,
            duration_ms=phase.duration_ms,
            activity_count=phase.activity_count,
            entries=[TimelineEntry.build(entry) for entry in phase.entries],
        )


@strawberry.type
class Timeline:
    """What the orchestrator recorded. The summary fields come from the run's visibility record
    (one call shared by the whole page), which counts a run's history only once it has closed:
    a job's detail counts an open run's with DescribeWorkflowExecution, the call its phases
    make anyway. `phases` alone reads the history."""

    available: bool = strawberry.field(
        description="False when the orchestrator's history cannot be read ('Temporal unreachable')."
    )
    unavailable_reason: str | None
    status: str | None = strawberry.field(
        description=(
            "Orchestrator status: COMPLETED, FAILED, RUNNING, CANCELLED, TERMINATED, TIMED_OUT, "
            "CONTINUED_AS_NEW."
        )
    )
    event_count: int | None = strawberry.field(
        description="Null for a running job on a page (its detail counts them)."
    )
    size_bytes: int | None = strawberry.field(
        description="Null for a running job on a page (its detail counts them)."
    )
    short_run_id: str | None = strawberry.field(description="The run id's first 8 hex digits.")
    headline: str | None = strawberry.field(
        description="'Job: COMPLETED | 83 events | 14.9 KB | 019d500e'; on a page, a running "
        "job's reads 'Job: RUNNING | 019d500e'."
    )
    status_mismatch: str | None = strawberry.field(
        description="Set when the job's status and the orchestrator's disagree."
    )
    source: strawberry.Private[PhaseSource]
    run: strawberry.Private[RunSummary | None]

    @classmethod
    async def read(
        cls,
        lookup: TimelineLookup,
        *,
        detail: bool,
        job_status: JobStatus,
        job_completed_at: datetime | None,
    ) -> Self:
        """The job's timeline; a `detail` (one job asked for by itself) counts an open run's
        history, a page does not (that would cost a call per running job)."""
        run = await lookup.summary()
        if detail and isinstance(run, RunSummary):
            run = await lookup.counted(run)
        return cls.of_run(run, lookup, job_status=job_status, job_completed_at=job_completed_at)

    @classmethod
    def of_view(cls, view: TimelineView) -> Self:
        """The timeline a live lookup found."""
        return cls.of_run(
            view.run,
            KnownPhases(view.phases),
            job_status=view.job.status,
            job_completed_at=view.job.completed_at,
        )

    @classmethod
    def of_run(
        cls,
        run: RunSummary | str,
        source: PhaseSource,
        *,
        job_status: JobStatus,
        job_completed_at: datetime | None,
    ) -> Self:
        """The timeline of `run` (or of none, and why) with its phases from `source`."""
        if isinstance(run, str):
            return cls(
                available=False,
                unavailable_reason=run,
                status=None,
                event_count=None,
                size_bytes=None,
                short_run_id=None,
                headline=None,
                status_mismatch=None,
                source=source,
                run=None,
            )
        return cls(
            available=True,
            unavailable_reason=None,
            status=run.status,
            event_count=run.event_count,
            size_bytes=run.size_bytes,
            short_run_id=run.short_run_id,
            headline=run.headline,
            status_mismatch=status_mismatch(
                job_status, job_completed_at, run, now=datetime.now(UTC)
            ),
            source=source,
            run=run,
        )

    @strawberry.field(description="Empty when unavailable or when the history cannot be read.")
    async def phases(self) -> list[TimelinePhase]:
        if self.run is None:
            return []
        phases = await self.source.phases(self.run)
        return [] if isinstance(phases, str) else [TimelinePhase.build(p) for p in phases]

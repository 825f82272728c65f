"""Init, Agent Setup, Execution and Teardown, built from a run's history (and, for a run still
going, the pending activities DescribeWorkflowExecution reports)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from .activities import ActivityRecord, ActivityState, activity_records, with_pending
from .plan import PHASES, job_agent, job_plan, phase_of


@dataclass(frozen=True)
class Entry:
    """One activity: a step's run in Execution. Its time runs from when it was first scheduled
    to when its last attempt ended, retries and back-off included."""

    name: str
    state: ActivityState
    attempt: int
    started_at: datetime
    completed_at: datetime | None
    duration_ms: int
    last_heartbeat_at: datetime | None
    workflow: str | None
    agent: str | None


@dataclass(frozen=True)
class Phase:
    name: str
    started_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None
    entries: tuple[Entry, ...]

    @property
    def activity_count(self) -> int:
        return len(self.entries)


def build_phases(
    events: Sequence[HistoryEvent],
    pending: Sequence[PendingActivityInfo] = (),
    *,
    now: datetime,
) -> list[Phase]:
    """The four phases in order, each with its activities; a phase not reached is empty.

    A phase with an activity still open has no end, and its duration runs up to `now`.
    """
    plan = job_plan(events)
    workflow = plan.workflow_slug or None if plan is not None else None
    agent = job_agent(events)
    records = with_pending(activity_records(events), pending)
    entries: dict[str, list[Entry]] = {name: [] for name in PHASES}
    for record in records:
        entries[phase_of(record.activity_type)].append(
            _entry(record, workflow=workflow, agent=agent, now=now)
        )
    return [_phase(name, entries[name], now=now) for name in PHASES]


def _entry(
    record: ActivityRecord, *, workflow: str | None, agent: str | None, now: datetime
) -> Entry:
    return Entry(
        name=record.activity_type,
        state=record.state,
        attempt=_step_attempt(record.activity_id) or record.attempt,
        started_at=record.scheduled_at,
        completed_at=record.closed_at,
        duration_ms=_millis(record.scheduled_at, record.closed_at or now),
        last_heartbeat_at=record.last_heartbeat_at,
        workflow=workflow,
        agent=agent,
    )


def _phase(name: str, entries: list[Entry], *, now: datetime) -> Phase:
    if not entries:
        return Phase(name, None, None, None, ())
    started = min(entry.started_at for entry in entries)
    ends = [entry.completed_at for entry in entries]
    completed = None if None in ends else max(end for end in ends if end is not None)
    return Phase(name, started, completed, _millis(started, completed or now), tuple(entries))


def _step_attempt(activity_id: str) -> int | None:
    """The job workflow runs each attempt of a step as its own activity, `step-I-attempt-N`."""
    _, marker, attempt = activity_id.rpartition("-attempt-")
    return int(attempt) if marker and attempt.isdigit() else None


def _millis(start: datetime, end: datetime) -> int:
    return max(round((end - start).total_seconds() * 1000), 0)

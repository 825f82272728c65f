"""The activities of one workflow run, folded from its history events.

A retried activity leaves a single scheduled event and, only once its last attempt ends, a
started event: the attempt in flight is known from DescribeWorkflowExecution's pending
activities, which `with_pending` folds in. An activity the workflow stopped waiting for (it
was cancelled without waiting for the cancellation, or the run was terminated) has no closing
event: it ends when the run ends.

Local activities (the job workflow's control-plane work) leave one marker each instead
(`markers.py`); they are folded in as records of their own, closed by the marker. One in flight
is in no history and no description: it shows once its workflow task completes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from .markers import LocalActivity, local_activity


class ActivityState(StrEnum):
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    CANCELLED = "CANCELLED"
    ABANDONED = "ABANDONED"
    """Still open when the run ended, with no cancellation asked for (e.g. terminated)."""


_CLOSING_EVENTS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: ActivityState.COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ActivityState.FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: ActivityState.TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: ActivityState.CANCELLED,
}
_RUN_ENDING_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}
_LOCAL_ENDS = {
    None: ActivityState.COMPLETED,
    "failed": ActivityState.FAILED,
    "timeout": ActivityState.TIMED_OUT,
    "cancelled": ActivityState.CANCELLED,
}
_IN_FLIGHT = {
    PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED,
}


@dataclass(frozen=True)
class ActivityRecord:
    scheduled_event_id: int
    activity_id: str
    activity_type: str
    state: ActivityState
    scheduled_at: datetime
    attempt: int = 1
    started_at: datetime | None = None
    closed_at: datetime | None = None
    last_heartbeat_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


def activity_records(events: Iterable[HistoryEvent]) -> list[ActivityRecord]:
    """One record per scheduled activity, in the order they were scheduled."""
    records: dict[int, ActivityRecord] = {}
    cancel_requested: set[int] = set()
    run_ended: datetime | None = None
    task_started: datetime | None = None
    local_cursor: datetime | None = None
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task_started = _time(event.event_time)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            local_cursor = task_started
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            local = local_activity(event)
            if local is not None:
                records[event.event_id] = _local_record(event.event_id, local, local_cursor)
                local_cursor = local.completed_at
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            records[event.event_id] = ActivityRecord(
                scheduled_event_id=event.event_id,
                activity_id=scheduled.activity_id,
                activity_type=scheduled.activity_type.name,
                state=ActivityState.SCHEDULED,
                scheduled_at=_time(event.event_time),
            )
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            record = records.get(started.scheduled_event_id)
            if record is not None:
                records[record.scheduled_event_id] = replace(
                    record,
                    state=ActivityState.RUNNING,
                    started_at=_time(event.event_time),
                    attempt=started.attempt,
                )
        elif event.event_type in _CLOSING_EVENTS:
            record = records.get(_scheduled_event_id(event))
            if record is not None:
                records[record.scheduled_event_id] = replace(
                    record,
                    state=_CLOSING_EVENTS[event.event_type],
                    closed_at=_time(event.event_time),
                )
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
            cancel_requested.add(
                event.activity_task_cancel_requested_event_attributes.scheduled_event_id
            )
        elif event.event_type in _RUN_ENDING_EVENTS:
            run_ended = _time(event.event_time)
    return [
        _ended_with_run(record, run_ended, cancel_requested) if record.open else record
        for record in records.values()
    ]


def _local_record(event_id: int, local: LocalActivity, begun: datetime | None) -> ActivityRecord:
    """A local activity began when its workflow task did, or when the one before it in that
    task ended (the workflow starts the next as soon as it has the last one's result)."""
    scheduled = min(begun or local.completed_at, local.completed_at)
    return ActivityRecord(
        scheduled_event_id=event_id,
        activity_id=local.activity_id,
        activity_type=local.activity_type,
        state=_LOCAL_ENDS[local.failure],
        scheduled_at=scheduled,
        attempt=local.attempt,
        started_at=scheduled,
        closed_at=local.completed_at,
    )


def _ended_with_run(
    record: ActivityRecord, run_ended: datetime | None, cancel_requested: set[int]
) -> ActivityRecord:
    if run_ended is None:
        return record
    cancelled = record.scheduled_event_id in cancel_requested
    return replace(
        record,
        state=ActivityState.CANCELLED if cancelled else ActivityState.ABANDONED,
        closed_at=run_ended,
    )


def with_pending(
    records: list[ActivityRecord], pending: Iterable[PendingActivityInfo]
) -> list[ActivityRecord]:
    """The records with the attempt in flight of each open activity, as describe reports it."""
    by_id = {info.activity_id: info for info in pending}
    return [
        _merge(record, by_id[record.activity_id])
        if record.open and record.activity_id in by_id
        else record
        for record in records
    ]


def _merge(record: ActivityRecord, info: PendingActivityInfo) -> ActivityRecord:
    in_flight = info.state in _IN_FLIGHT
    return replace(
        record,
        state=ActivityState.RUNNING if in_flight else ActivityState.SCHEDULED,
        attempt=max(info.attempt, 1),
        started_at=_time(info.last_started_time)
        if info.HasField("last_started_time")
        else record.started_at,
        last_heartbeat_at=_time(info.last_heartbeat_time)
        if info.HasField("last_heartbeat_time")
        else None,
    )


def _scheduled_event_id(event: HistoryEvent) -> int:
    """Every closing event's attributes name the scheduled event they close."""
    attributes = getattr(event, event.WhichOneof("attributes") or "")
    scheduled: int = attributes.scheduled_event_id
    return scheduled


def _time(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(UTC)

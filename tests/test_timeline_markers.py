"""Local activities in a history: the markers Temporal's SDK records for them become the
timeline's records, as scheduled activities do (real histories: tests/test_timeline_jobs.py)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import (
    ActivityFailureInfo,
    ApplicationFailureInfo,
    CanceledFailureInfo,
    Failure,
    TimeoutFailureInfo,
)
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from server.temporal.contracts import JobPlan
from server.timeline.activities import ActivityState, activity_records
from server.timeline.plan import job_plan

TASK_STARTED = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def event(event_id: int, kind: EventType.ValueType, at: datetime) -> HistoryEvent:
    history_event = HistoryEvent(event_id=event_id, event_type=kind)
    history_event.event_time.FromDatetime(at)
    return history_event


def marker(
    event_id: int,
    activity: str,
    completed: datetime,
    *,
    result: object = None,
    attempt: int = 1,
    failure: Failure | None = None,
) -> HistoryEvent:
    """A `core_local_activity` marker as the SDK writes it."""
    recorded = event(event_id, EventType.EVENT_TYPE_MARKER_RECORDED, completed)
    attributes = recorded.marker_recorded_event_attributes
    attributes.marker_name = "core_local_activity"
    stamp = completed.timestamp()
    data = {
        "seq": event_id,
        "attempt": attempt,
        "activity_id": str(event_id),
        "activity_type": activity,
        "complete_time": {"seconds": int(stamp), "nanos": round(stamp % 1 * 1e9)},
        "backoff": None,
    }
    attributes.details["data"].CopyFrom(
        Payloads(
            payloads=[Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(data).encode())]
        )
    )
    if failure is None:
        payloads = DataConverter.default.payload_converter.to_payloads([result])
        attributes.details["result"].CopyFrom(Payloads(payloads=payloads))
    else:
        attributes.failure.CopyFrom(failure)
    return recorded


def task(first_id: int) -> list[HistoryEvent]:
    return [
        event(first_id, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, TASK_STARTED),
        event(
            first_id + 1,
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            TASK_STARTED + timedelta(milliseconds=30),
        ),
    ]


def test_local_activities_of_one_task_follow_one_another_from_its_start() -> None:
    # given a workflow task that ran two local activities, the second after a retry
    first_end = TASK_STARTED + timedelta(milliseconds=12)
    second_end = TASK_STARTED + timedelta(milliseconds=20)
    history = [
        *task(3),
        marker(5, "validate_input", first_end, result="plan"),
        marker(6, "claim_agent", second_end, result=None, attempt=2),
    ]

    # when its records are read
    records = activity_records(history)

    # then each ran from the end of the one before (the first from the task's start)
    assert [
        (r.activity_type, r.state, r.attempt, r.scheduled_at, r.closed_at) for r in records
    ] == [
        ("validate_input", ActivityState.COMPLETED, 1, TASK_STARTED, first_end),
        ("claim_agent", ActivityState.COMPLETED, 2, first_end, second_end),
    ]


@pytest.mark.parametrize(
    ("failure", "state"),
    [
        (Failure(application_failure_info=ApplicationFailureInfo()), ActivityState.FAILED),
        (Failure(timeout_failure_info=TimeoutFailureInfo()), ActivityState.TIMED_OUT),
        (Failure(canceled_failure_info=CanceledFailureInfo()), ActivityState.CANCELLED),
        (
            Failure(
                activity_failure_info=ActivityFailureInfo(),
                cause=Failure(timeout_failure_info=TimeoutFailureInfo()),
            ),
            ActivityState.TIMED_OUT,
        ),
    ],
)
def test_a_local_activity_that_failed_says_how_and_gives_no_result(
    failure: Failure, state: ActivityState
) -> None:
    ended = TASK_STARTED + timedelta(milliseconds=5)
    history = [*task(3), marker(5, "validate_input", ended, failure=failure)]

    [record] = activity_records(history)

    assert (record.activity_type, record.state, record.closed_at) == (
        "validate_input",
        state,
        ended,
    )
    assert job_plan(history) is None


def test_init_s_plan_is_read_from_its_marker() -> None:
    plan = JobPlan("acme", 7, "deploy")
    history = [*task(3), marker(5, "validate_input", TASK_STARTED, result=plan)]

    assert job_plan(history) == plan


def test_markers_that_are_no_local_activity_are_not_activities() -> None:
    patch = event(5, EventType.EVENT_TYPE_MARKER_RECORDED, TASK_STARTED)
    patch.marker_recorded_event_attributes.marker_name = "core_patch"

    assert activity_records([*task(3), patch]) == []

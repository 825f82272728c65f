"""The phases of a job and the activities that make them; results recorded in a history:
Init's plan (the job's workflow), the agent Agent Setup checked, and the workflow's own result
(the job's end)."""

from collections.abc import Iterable, Sequence
from typing import TypeVar

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from server.temporal.contracts import JobPlan

from .markers import local_activity

# The four phases of a job and the activities of the job workflow that make them: the names
# `server.temporal` registers its activities under; any other activity (the step attempts,
# approval gates, an agent reported lost) belongs to Execution.
INIT = "Init"
AGENT_SETUP = "Agent Setup"
EXECUTION = "Execution"
TEARDOWN = "Teardown"
PHASES = (INIT, AGENT_SETUP, EXECUTION, TEARDOWN)

# Init's first activity returns the job's plan; Agent Setup's first, the agent's name.
INIT_ACTIVITY = "validate_input"
AGENT_ACTIVITY = "check_agent"
PHASE_OF_ACTIVITY = {
    INIT_ACTIVITY: INIT,
    "claim_agent": INIT,
    "leave_queue": INIT,
    "record_start": INIT,
    AGENT_ACTIVITY: AGENT_SETUP,
    "prepare_workspace": AGENT_SETUP,
    "hand_over_definition": AGENT_SETUP,
    "collect_outputs": TEARDOWN,
    "clean_workspace": TEARDOWN,
    "record_end": TEARDOWN,
}
T = TypeVar("T")


def phase_of(activity_type: str) -> str:
    return PHASE_OF_ACTIVITY.get(activity_type, EXECUTION)


def job_plan(events: Sequence[HistoryEvent]) -> JobPlan | None:
    """Init's result, or None when Init has not completed (or returned something else)."""
    return _last_result(events, INIT_ACTIVITY, JobPlan)


def job_agent(events: Sequence[HistoryEvent]) -> str | None:
    """The agent the job last ran on: the name its last completed agent check returned."""
    return _last_result(events, AGENT_ACTIVITY, str)


def completion_result(events: Iterable[HistoryEvent]) -> str | None:
    """What the workflow returned, when it completed with a string (the job's status)."""
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            payloads = list(event.workflow_execution_completed_event_attributes.result.payloads)
            try:
                decoded = DataConverter.default.payload_converter.from_payloads(payloads, [str])
            except TypeError:
                return None
            return decoded[0] if decoded and isinstance(decoded[0], str) else None
    return None


def _last_result(events: Iterable[HistoryEvent], activity: str, kind: type[T]) -> T | None:
    """The last result of `activity`, run as a scheduled activity or a local one."""
    scheduled: set[int] = set()
    found: T | None = None
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == activity:
                scheduled.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = event.activity_task_completed_event_attributes
            if completed.scheduled_event_id in scheduled:
                found = _decode(list(completed.result.payloads), kind) or found
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            local = local_activity(event)
            if local is not None and local.activity_type == activity and local.failure is None:
                found = _decode(local.result, kind) or found
    return found


def _decode(payloads: list[Payload], kind: type[T]) -> T | None:
    try:
        decoded = DataConverter.default.payload_converter.from_payloads(payloads, [kind])
    except TypeError:
        return None
    value = decoded[0] if decoded else None
    return value if isinstance(value, kind) else None

"""Results recorded in a history: Init's (the job's workflow and agent, as Init decided them)
and the workflow's own (the job's end)."""

from collections.abc import Iterable

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import ActivityTaskCompletedEventAttributes, HistoryEvent
from temporalio.converter import DataConverter

from server.temporal.contracts import JobPlan

# The four phases of a job and the activities of the job workflow that mark them: the names
# `server.temporal` registers its activities under; any other activity (the step runs,
# approval gates) belongs to Execution.
INIT = "Init"
AGENT_SETUP = "Agent Setup"
EXECUTION = "Execution"
TEARDOWN = "Teardown"
PHASES = (INIT, AGENT_SETUP, EXECUTION, TEARDOWN)

INIT_ACTIVITY = "init_job"
PHASE_OF_ACTIVITY = {INIT_ACTIVITY: INIT, "setup_agent": AGENT_SETUP, "teardown": TEARDOWN}


def phase_of(activity_type: str) -> str:
    return PHASE_OF_ACTIVITY.get(activity_type, EXECUTION)


def job_plan(events: Iterable[HistoryEvent]) -> JobPlan | None:
    """Init's result, or None when Init has not completed (or returned something else)."""
    init_events: set[int] = set()
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == INIT_ACTIVITY:
                init_events.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = event.activity_task_completed_event_attributes
            if completed.scheduled_event_id in init_events:
                return _decode(completed)
    return None


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


def _decode(completed: ActivityTaskCompletedEventAttributes) -> JobPlan | None:
    try:
        decoded = DataConverter.default.payload_converter.from_payloads(
            list(completed.result.payloads), [JobPlan]
        )
    except TypeError:
        return None
    plan = decoded[0] if decoded else None
    return plan if isinstance(plan, JobPlan) else None

"""Relay global ids of jobs and schedules, read from mutation arguments."""

from strawberry.relay import GlobalID

from server.domain.errors import NotFound

JOB_TYPE = "Job"
SCHEDULE_TYPE = "Schedule"


def job_number(global_id: str, *, field: str = "id") -> int:
    """The job number behind a global id; anything that is not a job's id is NOT_FOUND (on
    `field`, the argument it came in)."""
    return _node_key(global_id, JOB_TYPE, "job", field=field)


def schedule_id(global_id: str) -> int:
    """The schedule behind a global id; anything that is not a schedule's id is NOT_FOUND."""
    return _node_key(global_id, SCHEDULE_TYPE, "schedule", field="id")


def _node_key(global_id: str, type_name: str, kind: str, *, field: str) -> int:
    try:
        decoded = GlobalID.from_id(global_id)
        if decoded.type_name == type_name:
            return int(decoded.node_id)
    except ValueError:
        pass
    raise NotFound(f"no {kind} has the id {global_id!r}", field=field)

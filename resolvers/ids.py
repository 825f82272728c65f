"""Relay global ids of jobs and schedules: the numbers behind them, read from arguments."""

from strawberry.relay import GlobalID

from server.domain.errors import NotFound

JOB_TYPE = "Job"
SCHEDULE_TYPE = "Schedule"
LARGEST_ID = 2**63 - 1
"""The largest key a row can have (64-bit integer columns)."""


def storable(number: int) -> bool:
    """Whether a row could have this number as its key; others name nothing."""
    return 0 < number <= LARGEST_ID


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
            number = int(decoded.node_id)
            if storable(number):
                return number
    except ValueError:
        pass
    raise NotFound(f"no {kind} has the id {global_id!r}", field=field)

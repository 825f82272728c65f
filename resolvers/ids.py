"""Relay global ids of jobs, read from mutation arguments."""

from strawberry.relay import GlobalID

from server.domain.errors import NotFound

JOB_TYPE = "Job"


def job_number(global_id: str) -> int:
    """The job number behind a global id; anything that is not a job's id is NOT_FOUND."""
    try:
        decoded = GlobalID.from_id(global_id)
        if decoded.type_name == JOB_TYPE:
            return int(decoded.node_id)
    except ValueError:
        pass
    raise NotFound(f"no job has the id {global_id!r}", field="id")

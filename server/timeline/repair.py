"""What a job still open here should become when its workflow has ended in Temporal."""

from server.domain.enums import JobStatus

from .runs import RUNNING

_ENDED_BADLY = {"FAILED", "TIMED_OUT", "TERMINATED"}


def repair_status(run_status: str, result: str | None) -> JobStatus | None:
    """The job's end as the orchestrator recorded it, or None when it cannot tell.

    The job workflow fails with a failed job and is cancelled with a cancelled one; a
    COMPLETED run returns COMPLETED, or ALREADY_ENDED when Init found the job had ended, so its
    `result` says which.
    """
    if run_status == RUNNING:
        return None
    if run_status == "COMPLETED":
        return JobStatus(result) if result is not None and result in JobStatus.__members__ else None
    if run_status == "CANCELLED":
        return JobStatus.CANCELLED
    return JobStatus.FAILED if run_status in _ENDED_BADLY else None

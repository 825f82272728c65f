"""When a job's status (ours, the authority) and its workflow's status in Temporal disagree.

The job workflow ends as the job did: it fails when the job failed, is cancelled with the job,
and completes when the job completed (or when Init found the job already cancelled before it
began). Cancelling a job records CANCELLED at once and the workflow follows within moments,
so a run still RUNNING only disagrees with an ended job once `SETTLE` has passed since the job
ended.
"""

from datetime import datetime, timedelta

from server.domain.enums import JobStatus
from server.domain.rules import FINAL_STATUSES

from .runs import RUNNING, RunSummary

SETTLE = timedelta(seconds=30)

AGREEING_ENDS: dict[str, frozenset[JobStatus]] = {
    "COMPLETED": frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED}),
    "FAILED": frozenset({JobStatus.FAILED}),
    "TIMED_OUT": frozenset({JobStatus.FAILED, JobStatus.CANCELLED}),
    "TERMINATED": frozenset({JobStatus.FAILED, JobStatus.CANCELLED}),
    "CANCELLED": frozenset({JobStatus.CANCELLED}),
}


def status_mismatch(
    status: JobStatus, completed_at: datetime | None, run: RunSummary, *, now: datetime
) -> str | None:
    """'portal says failed, orchestrator says TERMINATED', or None when they agree."""
    if agrees(status, completed_at, run, now=now):
        return None
    return f"portal says {status.value.lower()}, orchestrator says {run.status}"


def agrees(
    status: JobStatus, completed_at: datetime | None, run: RunSummary, *, now: datetime
) -> bool:
    if run.status == RUNNING:
        ended_a_while_ago = completed_at is not None and now - completed_at > SETTLE
        return status not in FINAL_STATUSES or not ended_a_while_ago
    return status in AGREEING_ENDS.get(run.status, FINAL_STATUSES)

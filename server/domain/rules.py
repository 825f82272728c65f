"""Which job statuses allow which actions, and which transitions the state machine accepts."""

from .enums import JobStatus

ACTIVE_STATUSES = frozenset(
    {
        JobStatus.SCHEDULED,
        JobStatus.PENDING,
        JobStatus.RUNNING,
        JobStatus.WAITING,
        JobStatus.PAUSED,
    }
)
FINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
CANCELLABLE_STATUSES = ACTIVE_STATUSES
RESENDABLE_STATUSES = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.SCHEDULED: frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.WAITING,
            JobStatus.PAUSED,
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
        }
    ),
    JobStatus.WAITING: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.PAUSED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in TRANSITIONS[current]


def can_cancel(status: JobStatus) -> bool:
    return status in CANCELLABLE_STATUSES


def can_resend(status: JobStatus, *, already_resent: bool) -> bool:
    return status in RESENDABLE_STATUSES and not already_resent

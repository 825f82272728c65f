"""The job state machine: every status change of every job goes through `transition`.

It checks the move against the rules, stamps the job's times, appends the status event,
keeps the tab counts, owes the workflow's notification targets their message (sent after
commit) and queues the change notice that the unit of work publishes after commit.
"""

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, JobEvent
from server.db.status_counts import adjust_status_count
from server.domain import rules
from server.domain.enums import JobStatus
from server.domain.errors import InvalidTransition, NotFound
from server.events import JobChanged

from .notifications import owe_notifications
from .unit_of_work import UnitOfWork


async def record_created(
    work: UnitOfWork, job: Job, *, actor: str | None, message: str | None
) -> JobEvent:
    """The first event of a new job (from nothing to its initial status)."""
    await work.session.flush()
    await adjust_status_count(work.session, tenant=job.tenant_id, status=job.status, delta=1)
    return await _append_event(work, job, None, actor=actor, message=message)


async def locked_job(work: UnitOfWork, tenant: str, number: int) -> Job:
    """The job, locked for the rest of the transaction (where the database can lock rows)."""
    job = await work.session.scalar(
        select(Job).where(Job.tenant_id == tenant, Job.number == number).with_for_update()
    )
    if job is None:
        raise NotFound(f"job #{number} does not exist", field="id")
    return job


async def transition(
    work: UnitOfWork,
    job: Job,
    target: JobStatus,
    *,
    actor: str | None,
    message: str | None = None,
    only_from: Collection[JobStatus] | None = None,
) -> JobEvent:
    """Move the job to `target`, if the rules allow it (and, for an action that only applies to
    some statuses, if the job is in one of `only_from`); InvalidTransition otherwise."""
    current = job.status
    if only_from is not None and current not in only_from:
        names = " or ".join(status.value for status in only_from)
        raise InvalidTransition(
            f"job #{job.number} is {current.value}: only a {names} job can become {target.value}",
            field="id",
        )
    if not rules.can_transition(current, target):
        raise InvalidTransition(
            f"job #{job.number} is {current.value}: it cannot become {target.value}", field="id"
        )
    now = datetime.now(UTC)
    job.status = target
    if target is JobStatus.RUNNING and job.started_at is None:
        job.started_at = now
    if target in rules.FINAL_STATUSES:
        job.completed_at = now
        work.ended.append(job)
    await adjust_status_count(work.session, tenant=job.tenant_id, status=current, delta=-1)
    await adjust_status_count(work.session, tenant=job.tenant_id, status=target, delta=1)
    event = await _append_event(work, job, current, actor=actor, message=message, at=now)
    await owe_notifications(work, job)
    return event


def touched(work: UnitOfWork, job: Job) -> None:
    """Something other than the status changed (a step, the output): tell the subscribers."""
    work.notify(JobChanged(tenant=job.tenant_id, job_number=job.number))


async def _append_event(
    work: UnitOfWork,
    job: Job,
    previous: JobStatus | None,
    *,
    actor: str | None,
    message: str | None,
    at: datetime | None = None,
) -> JobEvent:
    event = JobEvent(
        tenant_id=job.tenant_id,
        job_number=job.number,
        from_status=previous,
        to_status=job.status,
        at=at or datetime.now(UTC),
        actor=actor,
        message=message,
    )
    await lock_event_order(work.session)
    work.session.add(event)
    await work.session.flush()
    work.notify(JobChanged(tenant=job.tenant_id, job_number=job.number, sequence=event.sequence))
    return event


# An arbitrary constant that names the lock: "jm" "ev" in ASCII.
EVENT_ORDER_LOCK = 0x6A6D6576


async def lock_event_order(session: AsyncSession) -> None:
    """Status events become visible in sequence order.

    On PostgreSQL a sequence value is taken at insert, not at commit, so without care a reader
    could see event 11 committed while event 10 is still in flight, and a subscriber resuming
    after 11 would never see 10. Writers of status events therefore take one
    transaction-scoped advisory lock before inserting: commit order is sequence order, and
    every reader that tails the table by sequence sees no gap. SQLite has a single writer,
    which gives the same order.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(EVENT_ORDER_LOCK)))

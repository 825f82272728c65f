"""Deleting finished jobs with everything they own: by hand (`deleteJobs`) or by age
(`jobmonitor prune`, the retention).

Jobs go in batches, each its own short transaction: lock the batch's rows, delete what hangs
off them, delete them, take them off the tab counts. A batch holds its locks for milliseconds,
so pages keep reading and jobs keep moving while a million old jobs go. Only finished jobs are
ever deleted (a job that is still moving is refused, and kept), and the count of each status
changes in the same transaction as the rows, so it stays exact. Each deletion leaves an audit
entry: who, how many, which ids or filter.
"""

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import (
    Artifact,
    AuditEntry,
    Job,
    JobEvent,
    JobNotification,
    JobOutbox,
    JobSignalOutbox,
    JobStep,
    LogLine,
    StepAttempt,
)
from server.db.status_counts import adjust_status_count
from server.domain.enums import JobStatus
from server.domain.errors import DomainError, InvalidTransition, NotFound
from server.domain.filters import JobFilter
from server.domain.rules import FINAL_STATUSES
from server.events import EventBus, JobDeleted
from server.reads.jobs import filter_conditions

from .artifacts import ArtifactService
from .unit_of_work import UnitOfWork, unit_of_work

DELETE_BATCH = 500
RETENTION = "retention"
"""The actor of the worker's prunes."""
log = logging.getLogger(__name__)
OWNED_BY_JOB = (
    Artifact,  # its chunks, when the database keeps them, go with it (ON DELETE CASCADE)
    LogLine,
    JobEvent,
    StepAttempt,
    JobStep,
    JobOutbox,
    JobSignalOutbox,
    JobNotification,
)
"""Every table whose rows belong to one job (by `job_number`)."""


@dataclass(frozen=True)
class DeleteOutcome:
    deleted: int
    refused: list[DomainError] = field(default_factory=list)


@dataclass
class PruneReport:
    """What a prune deleted (or, in a dry run, would delete), per tenant."""

    per_tenant: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    longest_batch_seconds: float = 0.0

    @property
    def deleted(self) -> int:
        return sum(self.per_tenant.values())


class JobDeletion:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        artifacts: ArtifactService,
        *,
        batch: int = DELETE_BATCH,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self._artifacts = artifacts
        self._batch = batch

    async def delete(
        self,
        *,
        tenant: str,
        numbers: Sequence[int],
        job_filter: JobFilter | None,
        actor: str | None,
    ) -> DeleteOutcome:
        """Delete the listed jobs and those matching the filter, if finished; each listed job
        that is not (or is not the tenant's) is refused, and the unfinished jobs the filter
        matches are refused as one. Once started it runs to its end and its audit entry, even
        if the request that asked is cut short (by the execution timeout, say)."""
        return await asyncio.shield(self._delete(tenant, numbers, job_filter, actor))

    async def _delete(
        self,
        tenant: str,
        numbers: Sequence[int],
        job_filter: JobFilter | None,
        actor: str | None,
    ) -> DeleteOutcome:
        refused: list[DomainError] = []
        listed = await self._finished_of(tenant, numbers, refused)
        report = PruneReport()
        if listed:
            await self._delete_all([Job.tenant_id == tenant, Job.number.in_(listed)], report)
        if job_filter is not None:
            async with self._session_factory() as session:
                conditions = await filter_conditions(session, tenant=tenant, job_filter=job_filter)
            await self._delete_all(conditions, report)
            active = await self._count(conditions, finished=False)
            if active:
                refused.append(
                    InvalidTransition(
                        f"{active} job(s) matching the filter are not finished and were kept",
                        field="filter",
                    )
                )
        described = {"ids": list(numbers), "filter": _described(job_filter)}
        await self._audit({tenant: report.deleted}, actor, "deleteJobs", described)
        return DeleteOutcome(deleted=report.deleted, refused=refused)

    async def prune(self, *, before: datetime, dry_run: bool, actor: str | None) -> PruneReport:
        """Delete every tenant's jobs that finished before `before` (a dry run counts them)."""
        ended = func.coalesce(Job.completed_at, Job.created_at) < before
        report = PruneReport()
        if dry_run:
            async with self._session_factory() as session:
                counted = select(Job.tenant_id, func.count()).where(
                    ended, Job.status.in_(FINAL_STATUSES)
                )
                for tenant, count in await session.execute(counted.group_by(Job.tenant_id)):
                    report.per_tenant[tenant] = int(count)
            return report
        await self._delete_all([ended], report)
        detail = {"finishedBefore": before.isoformat()}
        await self._audit(report.per_tenant, actor, "prune", detail)
        return report

    @asynccontextmanager
    async def retaining(self, days: int | None, *, interval: float) -> AsyncIterator[None]:
        """While the block runs, prune the jobs that finished more than `days` ago, every
        `interval` seconds (nothing when `days` is None). Several workers doing it at once is
        harmless: a batch another one deleted first is simply not there."""
        if days is None:
            yield
            return
        task = asyncio.create_task(self._retain(timedelta(days=days), interval))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _retain(self, age: timedelta, interval: float) -> None:
        while True:
            try:
                report = await self.prune(
                    before=datetime.now(UTC) - age, dry_run=False, actor=RETENTION
                )
                if report.deleted:
                    log.info("retention: deleted %d finished job(s)", report.deleted)
            except SQLAlchemyError:
                log.exception("retention: the database failed; trying again in %s s", interval)
            await asyncio.sleep(interval)

    async def _finished_of(
        self, tenant: str, numbers: Sequence[int], refused: list[DomainError]
    ) -> list[int]:
        """The listed jobs that may go; a refusal for each of the others."""
        if not numbers:
            return []
        async with self._session_factory() as session:
            chosen = select(Job.number, Job.status).where(
                Job.tenant_id == tenant, Job.number.in_(numbers)
            )
            found: dict[int, JobStatus] = {
                row.number: row.status for row in await session.execute(chosen)
            }
        finished: list[int] = []
        for number in dict.fromkeys(numbers):
            status = found.get(number)
            if status is None:
                refused.append(NotFound(f"job #{number} does not exist", field="ids"))
            elif status not in FINAL_STATUSES:
                refused.append(
                    InvalidTransition(
                        f"job #{number} is {status.value}: only a finished job can be deleted",
                        field="ids",
                    )
                )
            else:
                finished.append(number)
        return finished

    async def _delete_all(
        self, conditions: Sequence[ColumnElement[bool]], report: PruneReport
    ) -> None:
        """Batches of the finished jobs matching `conditions`, in number order, until none is
        left."""
        after = 0
        while True:
            started = time.perf_counter()
            async with unit_of_work(self._session_factory, self._bus) as work:
                gone, artifact_ids = await _delete_batch(
                    work, conditions, after=after, limit=self._batch
                )
            if not gone:
                return
            await self._artifacts.discard(artifact_ids)
            seconds = time.perf_counter() - started
            report.batches += 1
            report.longest_batch_seconds = max(report.longest_batch_seconds, seconds)
            report.per_tenant.update(tenant for tenant, _status in gone.values())
            after = max(gone)

    async def _count(self, conditions: Sequence[ColumnElement[bool]], *, finished: bool) -> int:
        statuses = Job.status.in_(FINAL_STATUSES)
        async with self._session_factory() as session:
            counted = select(func.count()).select_from(Job)
            return int(
                await session.scalar(
                    counted.where(*conditions, statuses if finished else ~statuses)
                )
                or 0
            )

    async def _audit(
        self, per_tenant: dict[str, int], actor: str | None, action: str, detail: dict[str, Any]
    ) -> None:
        now = datetime.now(UTC)
        async with self._session_factory() as session, session.begin():
            session.add_all(
                AuditEntry(
                    tenant_id=tenant, actor=actor, action=action, count=count, detail=detail, at=now
                )
                for tenant, count in per_tenant.items()
            )


async def _delete_batch(
    work: UnitOfWork, conditions: Sequence[ColumnElement[bool]], *, after: int, limit: int
) -> tuple[dict[int, tuple[str, JobStatus]], list[int]]:
    """One transaction: up to `limit` finished jobs numbered after `after`, locked, deleted with
    all they own, taken off the counts; answers them (number: tenant, status) and the ids of
    their artifacts (whose bytes the store forgets after commit)."""
    session = work.session
    chosen = (
        select(Job.number, Job.tenant_id, Job.status)
        .where(*conditions, Job.status.in_(FINAL_STATUSES), Job.number > after)
        .order_by(Job.number)
        .limit(limit)
        .with_for_update()
    )
    gone = {number: (tenant, status) for number, tenant, status in await session.execute(chosen)}
    if not gone:
        return gone, []
    numbers = list(gone)
    artifact_ids = list(
        await session.scalars(select(Artifact.id).where(Artifact.job_number.in_(numbers)))
    )
    # A job resent from one of these keeps running; its link to the original goes.
    await session.execute(
        update(Job).where(Job.resent_from_number.in_(numbers)).values(resent_from_number=None)
    )
    for table in OWNED_BY_JOB:
        await session.execute(delete(table).where(table.job_number.in_(numbers)))
    await session.execute(delete(Job).where(Job.number.in_(numbers)))
    for (tenant, status), count in Counter(gone.values()).items():
        await adjust_status_count(session, tenant=tenant, status=status, delta=-count)
    for number, (tenant, _status) in gone.items():
        work.notify(JobDeleted(tenant=tenant, job_number=number))
    return gone, artifact_ids


def _described(job_filter: JobFilter | None) -> dict[str, Any] | None:
    """The filter as the audit entry keeps it: the fields that were set."""
    if job_filter is None:
        return None
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in dataclasses.asdict(job_filter).items()
        if value not in (None, (), False)
    }

"""Delivering the dispatch outbox: start each stored job's workflow once Temporal answers.

A job and its outbox row are written in one transaction. Delivery starts the workflow (its id
is the pipeline id, so a second delivery by another process is a no-op) and then stamps the
row; a row whose start failed stays for the next round. Nothing is lost and nothing runs twice.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Job, JobOutbox
from server.domain.errors import OrchestratorUnavailable
from server.domain.rules import FINAL_STATUSES
from server.events import EventBus

from . import state_machine
from .orchestrator import Orchestrator
from .unit_of_work import UnitOfWork, run_retrying

log = logging.getLogger(__name__)
BATCH = 100


def outbox_entry(job: Job) -> JobOutbox:
    """The row to add beside a new job, in the same transaction."""
    return JobOutbox(
        tenant_id=job.tenant_id,
        job_number=job.number,
        start_at=job.scheduled_for,
        created_at=datetime.now(UTC),
        attempts=0,
    )


class OutboxDispatcher:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        orchestrator: Orchestrator,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self.orchestrator = orchestrator

    async def deliver(self, number: int) -> bool:
        """Try to start one job's workflow now; False when it stays in the outbox for later."""
        async with self._session_factory() as session:
            entry = await session.scalar(
                select(JobOutbox).where(
                    JobOutbox.job_number == number, JobOutbox.delivered_at.is_(None)
                )
            )
            job = await session.get(Job, number)
        if entry is None or job is None:
            return True
        if job.status in FINAL_STATUSES:
            await self._settle(entry.id, workflow_id=None, note="the job ended before it started")
            return True
        try:
            workflow_id = await self.orchestrator.start_job(
                tenant=entry.tenant_id, number=number, start_at=entry.start_at
            )
        except OrchestratorUnavailable as error:
            await self._failed(entry.id, error.message)
            return False
        await self._settle(entry.id, workflow_id=workflow_id, note=None)
        return True

    async def deliver_pending(self, *, tenant: str | None = None) -> int:
        """One round over the undelivered rows (of one tenant, or all), oldest first; returns
        how many were delivered."""
        async with self._session_factory() as session:
            pending = select(JobOutbox.job_number).where(JobOutbox.delivered_at.is_(None))
            if tenant is not None:
                pending = pending.where(JobOutbox.tenant_id == tenant)
            numbers = list(await session.scalars(pending.order_by(JobOutbox.id).limit(BATCH)))
        delivered = 0
        for number in numbers:
            if not await self.deliver(number):
                break  # Temporal is down: the rest would fail the same way.
            delivered += 1
        return delivered

    async def run(self, interval: float, *, stop: asyncio.Event, tenant: str | None = None) -> None:
        """Deliver every `interval` seconds until `stop` is set (a round is never cut off)."""
        while not stop.is_set():
            try:
                await self.deliver_pending(tenant=tenant)
            except Exception:
                log.exception("outbox delivery failed; retrying in %.1f s", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def _settle(self, entry_id: int, *, workflow_id: str | None, note: str | None) -> None:
        async def action(work: UnitOfWork) -> None:
            entry = await work.session.get(JobOutbox, entry_id)
            if entry is None or entry.delivered_at is not None:
                return
            entry.delivered_at = datetime.now(UTC)
            entry.last_error = note
            if workflow_id is None:
                return
            job = await work.session.get(Job, entry.job_number)
            if job is not None and job.temporal_workflow_id != workflow_id:
                job.temporal_workflow_id = workflow_id
                state_machine.touched(work, job)

        await run_retrying(self._session_factory, self._bus, action)

    async def _failed(self, entry_id: int, error: str) -> None:
        async with self._session_factory() as session, session.begin():
            entry = await session.get(JobOutbox, entry_id)
            if entry is not None:
                entry.attempts += 1
                entry.last_error = error

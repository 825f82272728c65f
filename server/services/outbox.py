"""The outbox: what Temporal is owed (a job's workflow start, then the signals and
cancellations that follow its status changes) is written in the same transaction as the change,
and sent only after commit.

A transaction that is retried or rolled back leaves nothing owed, so nothing is sent twice and
Temporal is never told of a change the database did not keep; a process that dies after
commit leaves the rows for the next round, so nothing is lost. A start is sent under the
job's workflow id (a second delivery is a no-op); a message is claimed before it is sent, so
one dispatcher sends it, and a job's messages go out in the order they were written.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from server.db.models import Job, JobOutbox, JobSignalOutbox
from server.domain.errors import OrchestratorUnavailable
from server.domain.rules import FINAL_STATUSES
from server.events import EventBus

from . import state_machine
from .orchestrator import JobSignal, Orchestrator, WorkflowGone
from .unit_of_work import UnitOfWork, run_retrying

log = logging.getLogger(__name__)
BATCH = 100
CANCEL: Literal["cancel"] = "cancel"
Message = JobSignal | Literal["cancel"]
"""What a job's workflow can be owed: a signal, or its cancellation."""
CLAIM = timedelta(seconds=30)
"""How long a dispatcher may take to send a message it claimed before another may retry it."""
GONE_NOTE = "no workflow in Temporal: recorded in the database only"


class Sent(Enum):
    SENT = "sent"
    SKIPPED = "skipped"
    """Already sent, or another dispatcher holds it (or an earlier message of its job)."""
    UNAVAILABLE = "unavailable"


def outbox_entry(job: Job) -> JobOutbox:
    """The row to add beside a new job, in the same transaction."""
    return JobOutbox(
        tenant_id=job.tenant_id,
        job_number=job.number,
        start_at=job.scheduled_for,
        created_at=datetime.now(UTC),
        attempts=0,
    )


def owe_message(
    work: UnitOfWork, job: Job, message: Message, *, actor: str | None, text: str | None
) -> bool:
    """Owe the job's workflow a signal (or CANCEL), in the caller's transaction; False when the
    job has no workflow to tell (the change is the database's alone)."""
    if job.temporal_workflow_id is None:
        return False
    work.session.add(
        JobSignalOutbox(
            tenant_id=job.tenant_id,
            job_number=job.number,
            workflow_id=job.temporal_workflow_id,
            signal=str(message),
            actor=actor,
            message=text,
            created_at=datetime.now(UTC),
            attempts=0,
        )
    )
    return True


class OutboxDispatcher:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        orchestrator: Orchestrator,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self._orchestrator = orchestrator

    async def deliver(self, number: int) -> bool:
        """Send what one job's workflow is owed now (its start, then its messages in order);
        False when Temporal did not answer and the rest waits for a later round."""
        if not await self._start(number):
            return False
        for entry_id in await self._pending_messages(job_number=number):
            if await self._send(entry_id) is Sent.UNAVAILABLE:
                return False
        return True

    async def deliver_pending(self, *, tenant: str | None = None) -> int:
        """One round over what is owed (in one tenant, or all), oldest first: starts, then
        messages; returns how many were sent."""
        async with self._session_factory() as session:
            pending = select(JobOutbox.job_number).where(JobOutbox.delivered_at.is_(None))
            if tenant is not None:
                pending = pending.where(JobOutbox.tenant_id == tenant)
            numbers = list(await session.scalars(pending.order_by(JobOutbox.id).limit(BATCH)))
        delivered = 0
        for number in numbers:
            if not await self._start(number):
                return delivered  # Temporal is down: the rest would fail the same way.
            delivered += 1
        for entry_id in await self._pending_messages(tenant=tenant):
            sent = await self._send(entry_id)
            if sent is Sent.UNAVAILABLE:
                break
            delivered += sent is Sent.SENT
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

    async def _start(self, number: int) -> bool:
        """Start one job's workflow if that is still owed; False when it stays for later."""
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
            workflow_id = await self._orchestrator.start_job(
                tenant=entry.tenant_id, number=number, start_at=entry.start_at
            )
        except OrchestratorUnavailable as error:
            await self._failed(entry.id, error.message)
            return False
        await self._settle(entry.id, workflow_id=workflow_id, note=None)
        return True

    async def _pending_messages(
        self, *, job_number: int | None = None, tenant: str | None = None
    ) -> list[int]:
        statement = select(JobSignalOutbox.id).where(JobSignalOutbox.delivered_at.is_(None))
        if job_number is not None:
            statement = statement.where(JobSignalOutbox.job_number == job_number)
        if tenant is not None:
            statement = statement.where(JobSignalOutbox.tenant_id == tenant)
        async with self._session_factory() as session:
            return list(await session.scalars(statement.order_by(JobSignalOutbox.id).limit(BATCH)))

    async def _send(self, entry_id: int) -> Sent:
        entry = await self._claim(entry_id)
        if entry is None:
            return Sent.SKIPPED
        try:
            if entry.signal == CANCEL:
                await self._orchestrator.cancel_job(
                    entry.workflow_id, actor=entry.actor, reason=entry.message or CANCEL
                )
            else:
                await self._orchestrator.signal_job(
                    entry.workflow_id,
                    JobSignal(entry.signal),
                    actor=entry.actor,
                    message=entry.message,
                )
        except WorkflowGone:
            await self._sent(entry_id, note=GONE_NOTE)
        except OrchestratorUnavailable as error:
            await self._unclaim(entry_id, error.message)
            return Sent.UNAVAILABLE
        else:
            await self._sent(entry_id, note=None)
        return Sent.SENT

    async def _claim(self, entry_id: int) -> JobSignalOutbox | None:
        """The message, if this dispatcher may send it now: not sent, not held by another
        dispatcher, and no earlier message of its job still owed."""
        now = datetime.now(UTC)
        earlier = aliased(JobSignalOutbox)
        claim = (
            update(JobSignalOutbox)
            .where(
                JobSignalOutbox.id == entry_id,
                JobSignalOutbox.delivered_at.is_(None),
                or_(JobSignalOutbox.claimed_until.is_(None), JobSignalOutbox.claimed_until < now),
                ~exists().where(
                    earlier.job_number == JobSignalOutbox.job_number,
                    earlier.id < JobSignalOutbox.id,
                    earlier.delivered_at.is_(None),
                ),
            )
            .values(claimed_until=now + CLAIM)
            .execution_options(synchronize_session=False)
        )
        async with self._session_factory() as session, session.begin():
            claimed = cast(CursorResult[Any], await session.execute(claim)).rowcount == 1
            return await session.get(JobSignalOutbox, entry_id) if claimed else None

    async def _sent(self, entry_id: int, *, note: str | None) -> None:
        async with self._session_factory() as session, session.begin():
            entry = await session.get_one(JobSignalOutbox, entry_id)
            entry.delivered_at = datetime.now(UTC)
            entry.claimed_until = None
            entry.last_error = note

    async def _unclaim(self, entry_id: int, error: str) -> None:
        async with self._session_factory() as session, session.begin():
            entry = await session.get_one(JobSignalOutbox, entry_id)
            entry.attempts += 1
            entry.claimed_until = None
            entry.last_error = error

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
            # Another process may have delivered the row meanwhile: its record stands.
            if entry is not None and entry.delivered_at is None:
                entry.attempts += 1
                entry.last_error = error

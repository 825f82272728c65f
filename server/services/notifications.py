"""Notifications out: what a workflow's `notify:` list owes its targets when a job reaches a
status is written in the transaction of the change (`owe_notifications`, called by the state
machine) and sent after commit by the `NotificationDispatcher`.

The database keeps one row per (job, status, target), so a notification is owed once however
often the status is reached. A dispatcher claims a row before it sends it (two dispatchers
never send one row at once) and sends every attempt under the same `X-Jobmonitor-Delivery` id,
so a receiver that sees a row again after a dispatcher died mid-request can tell it is the same
notification. Failures are retried with exponential backoff and jitter up to a limit. Each row
is sent by its own task, and each target has its own bound on requests in flight, so a target
that fails or hangs holds up nothing but itself; nothing here ever waits inside a state change.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import orjson
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Job, JobNotification, Workflow
from server.domain.enums import DeliveryStatus
from server.domain.signing import SIGNATURE_HEADER, signature
from server.settings import NotifyKind, NotifyTarget

from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 100
DELIVERY_HEADER = "X-Jobmonitor-Delivery"


async def owe_notifications(work: UnitOfWork, job: Job) -> None:
    """Owe each target of the job's workflow that asks for the job's new status a notification,
    in the caller's transaction; a (job, status, target) already owed is not owed again."""
    workflow = await work.session.get(Workflow, job.workflow_id)
    rules = ((workflow.definition if workflow is not None else None) or {}).get("notify") or []
    targets = [rule["target"] for rule in rules if job.status.value in rule["on"]]
    if not targets:
        return
    owed = set(
        await work.session.scalars(
            select(JobNotification.target).where(
                JobNotification.job_number == job.number, JobNotification.status == job.status
            )
        )
    )
    now = datetime.now(UTC)
    for target in dict.fromkeys(targets):
        if target not in owed:
            work.session.add(
                JobNotification(
                    tenant_id=job.tenant_id,
                    job_number=job.number,
                    target=target,
                    status=job.status,
                    delivery=DeliveryStatus.PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: float
    """Seconds before the first retry; doubled for each later one, with jitter."""
    timeout: float
    """Longest one request may take; a claim lasts twice that, then another dispatcher may
    send the row again (under the same delivery id)."""

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter between half and the whole of the step."""
        step = self.backoff * 2 ** (attempts - 1)
        return timedelta(seconds=random.uniform(step / 2, step))


class _Failed(Exception):
    """A request that did not succeed; the message is safe to show (never the URL)."""


class NotificationDispatcher:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        targets: Mapping[str, NotifyTarget],
        *,
        policy: RetryPolicy,
        per_target: int,
    ) -> None:
        self._session_factory = session_factory
        self._targets = dict(targets)
        self._policy = policy
        self._per_target = per_target
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}

    async def deliver_due(self, *, tenant: str | None = None) -> None:
        """Start sending every notification due now that is not already on its way here; each
        goes in a task of its own (this returns without waiting for them)."""
        now = datetime.now(UTC)
        statement = select(JobNotification.id, JobNotification.target).where(
            JobNotification.delivery == DeliveryStatus.PENDING,
            JobNotification.next_attempt_at <= now,
            or_(JobNotification.claimed_until.is_(None), JobNotification.claimed_until < now),
        )
        if tenant is not None:
            statement = statement.where(JobNotification.tenant_id == tenant)
        async with self._session_factory() as session:
            due = (await session.execute(statement.order_by(JobNotification.id).limit(BATCH))).all()
        for row_id, target in due:
            if row_id not in self._in_flight:
                self._in_flight[row_id] = asyncio.create_task(
                    self._deliver(row_id, target), name=f"notify-{row_id}"
                )

    async def run(self, interval: float, *, stop: asyncio.Event, tenant: str | None = None) -> None:
        """Look for notifications due every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                await self.deliver_due(tenant=tenant)
            except SQLAlchemyError:
                log.exception("notification round failed; retrying in %.1f s", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    @asynccontextmanager
    async def running(self, interval: float, *, tenant: str | None = None) -> AsyncIterator[None]:
        """Deliver in the background while the block runs; requests still in flight at its end
        are cancelled (their rows are claimed again once the claim runs out)."""
        stop = asyncio.Event()
        loop = asyncio.create_task(self.run(interval, stop=stop, tenant=tenant))
        try:
            yield
        finally:
            stop.set()
            await loop
            tasks = list(self._in_flight.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(self, row_id: int, target_name: str) -> None:
        try:
            await self._deliver_once(row_id, target_name)
        except SQLAlchemyError:
            log.exception("notification %s: the database failed; it stays owed", row_id)
        finally:
            self._in_flight.pop(row_id, None)

    async def _deliver_once(self, row_id: int, target_name: str) -> None:
        limit = self._limits.setdefault(target_name, asyncio.Semaphore(self._per_target))
        async with limit:
            claimed = await self._claim(row_id)
            if claimed is None:
                return
            notification, job, slug = claimed
            target = self._targets.get(target_name)
            try:
                if target is None:
                    raise _Failed(f"no target {target_name!r} is configured")
                thread = await self._send(target, notification, job, slug)
            except _Failed as error:
                await self._settle(row_id, error=str(error))
            else:
                await self._settle(row_id, error=None, thread=thread, job_number=job.number)

    async def _claim(self, row_id: int) -> tuple[JobNotification, Job, str] | None:
        now = datetime.now(UTC)
        claim = (
            update(JobNotification)
            .where(
                JobNotification.id == row_id,
                JobNotification.delivery == DeliveryStatus.PENDING,
                or_(JobNotification.claimed_until.is_(None), JobNotification.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=2 * self._policy.timeout))
            .execution_options(synchronize_session=False)
        )
        async with self._session_factory() as session, session.begin():
            if cast(CursorResult[Any], await session.execute(claim)).rowcount != 1:
                return None
            notification = await session.get_one(JobNotification, row_id)
            job = await session.get_one(Job, notification.job_number)
            workflow = await session.get_one(Workflow, job.workflow_id)
            return notification, job, workflow.slug

    async def _send(
        self, target: NotifyTarget, notification: JobNotification, job: Job, slug: str
    ) -> str | None:
        """Send one notification; the thread the target answered with, if it keeps threads."""
        if target.kind is NotifyKind.SLACK:
            body = orjson.dumps(slack_message(notification, job, slug))
        else:
            body = orjson.dumps(status_event(notification, job, slug))
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(notification.id)}
        if target.secret is not None:
            headers[SIGNATURE_HEADER] = signature(target.secret.get_secret_value(), body)
        try:
            async with httpx.AsyncClient(timeout=self._policy.timeout) as http:
                response = await http.post(
                    target.url.get_secret_value(), content=body, headers=headers
                )
        except httpx.TimeoutException:
            raise _Failed(f"no answer within {self._policy.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise _Failed(f"request failed: {type(error).__name__}") from None
        if not response.is_success:
            raise _Failed(f"HTTP {response.status_code}")
        return _thread_of(response) if target.kind is NotifyKind.SLACK else None

    async def _settle(
        self,
        row_id: int,
        *,
        error: str | None,
        thread: str | None = None,
        job_number: int | None = None,
    ) -> None:
        now = datetime.now(UTC)
        async with self._session_factory() as session, session.begin():
            notification = await session.get_one(JobNotification, row_id)
            notification.attempts += 1
            notification.last_attempt_at = now
            notification.claimed_until = None
            notification.error = error
            if error is None:
                notification.delivery = DeliveryStatus.DELIVERED
            elif notification.attempts >= self._policy.max_attempts:
                notification.delivery = DeliveryStatus.FAILED
            else:
                notification.next_attempt_at = now + self._policy.delay(notification.attempts)
            if thread is not None and job_number is not None:
                # Only the first message of a job opens its thread; a plain UPDATE leaves the
                # job's version alone, so no state change races with it.
                await session.execute(
                    update(Job)
                    .where(Job.number == job_number, Job.slack_thread_ts.is_(None))
                    .values(slack_thread_ts=thread)
                    .execution_options(synchronize_session=False)
                )


def job_name(job: Job, slug: str) -> str:
    return f"{slug} — {job.ticket_key or 'queued'}"


def slack_message(notification: JobNotification, job: Job, slug: str) -> dict[str, Any]:
    """A Slack-compatible message: the job's name, status, ticket and link, in its thread once
    the job has one."""
    ticket = f" <{job.ticket_url}|{job.ticket_key}>" if job.ticket_url else ""
    text = f"Job #{job.number} {job_name(job, slug)} is {notification.status.value}.{ticket}"
    if job.error and notification.status.value == "FAILED":
        text += f"\n> {job.error[:300]}"
    message: dict[str, Any] = {"text": text}
    if job.slack_thread_ts:
        message["thread_ts"] = job.slack_thread_ts
    return message


def status_event(notification: JobNotification, job: Job, slug: str) -> dict[str, Any]:
    """The generic webhook's JSON: the status event and the job it concerns."""
    return {
        "delivery": notification.id,
        "event": "job.status",
        "status": notification.status.value,
        "at": notification.created_at.isoformat(),
        "job": {
            "number": job.number,
            "name": job_name(job, slug),
            "workflow": slug,
            "status": job.status.value,
            "ticketKey": job.ticket_key,
            "ticketUrl": job.ticket_url,
            "error": job.error,
        },
    }


def _thread_of(response: httpx.Response) -> str | None:
    """The `ts` a target answered with (Slack's API answers so; an incoming webhook says
    `ok` and keeps no thread)."""
    try:
        answer = response.json()
    except ValueError:
        return None
    thread = answer.get("ts") if isinstance(answer, dict) else None
    return str(thread) if thread else None

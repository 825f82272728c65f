"""Automations: storing the rules, and turning a verified webhook delivery into jobs.

A delivery is recorded first, in its own transaction: its id (or, without one, its issue key
and event within the replay window) is taken once, so a replay dispatches nothing. Each
matching rule then dispatches through the job service, with an idempotency key made of the
delivery and the rule, so the job, its outbox entry and its start are the job service's own.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Automation, HookDelivery, Workflow
from server.domain.automations import AutomationDefinition, event_key
from server.domain.errors import NotFound
from server.reads.jobs import workflow_ids_for

from .jobs import JobService


@dataclass(frozen=True)
class HookOutcome:
    replay: bool
    jobs: tuple[int, ...] = ()


class AutomationService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        jobs: JobService,
        *,
        replay_window: timedelta,
    ) -> None:
        self._session_factory = session_factory
        self._jobs = jobs
        self._replay_window = replay_window

    async def save(
        self, *, tenant: str, definitions: Sequence[AutomationDefinition]
    ) -> list[Automation]:
        """Insert or update each rule by name, in one transaction; every workflow must exist."""
        async with self._session_factory() as session, session.begin():
            names = [definition.name for definition in definitions]
            statement = select(Automation).where(
                Automation.tenant_id == tenant, Automation.name.in_(names)
            )
            existing = {row.name: row for row in await session.scalars(statement)}
            saved: list[Automation] = []
            for definition in definitions:
                row = existing.get(definition.name) or Automation(
                    tenant_id=tenant, name=definition.name, created_at=datetime.now(UTC)
                )
                row.source = definition.source
                row.workflow_id = await _workflow_id(session, tenant, definition.workflow)
                row.enabled = definition.enabled
                row.rule = definition.stored_rule()
                session.add(row)
                saved.append(row)
        return saved

    async def receive(
        self, *, tenant: str, source: str, payload: dict[str, Any], delivery_id: str | None
    ) -> HookOutcome:
        """Dispatch one job per enabled rule of `source` that matches the payload, once per
        delivery."""
        recorded = await self._record(tenant, source, payload, delivery_id)
        if recorded is None:
            return HookOutcome(replay=True)
        numbers: list[int] = []
        for automation_id, definition in await self._rules(tenant, source):
            if not definition.matches(payload):
                continue
            request = definition.request(
                payload,
                automation_id=automation_id,
                idempotency_key=f"hook:{recorded}:{automation_id}",
            )
            job = await self._jobs.dispatch(
                tenant=tenant, request=request, actor=f"automation:{definition.name}"
            )
            numbers.append(job.number)
        return HookOutcome(replay=False, jobs=tuple(numbers))

    async def _record(
        self, tenant: str, source: str, payload: dict[str, Any], delivery_id: str | None
    ) -> int | None:
        """The new delivery's id, or None when it repeats one already received."""
        now = datetime.now(UTC)
        key = None if delivery_id else event_key(source, payload)
        try:
            async with self._session_factory() as session, session.begin():
                if key is not None:
                    seen = await session.scalar(
                        select(HookDelivery.id).where(
                            HookDelivery.tenant_id == tenant,
                            HookDelivery.source == source,
                            HookDelivery.event_key == key,
                            HookDelivery.received_at > now - self._replay_window,
                        )
                    )
                    if seen is not None:
                        return None
                delivery = HookDelivery(
                    tenant_id=tenant,
                    source=source,
                    delivery_id=delivery_id,
                    event_key=key,
                    received_at=now,
                )
                session.add(delivery)
        except IntegrityError:
            return None  # the same delivery id, already received
        return delivery.id

    async def _rules(self, tenant: str, source: str) -> list[tuple[int, AutomationDefinition]]:
        async with self._session_factory() as session:
            rows = await session.execute(
                select(Automation, Workflow.slug)
                .join(Workflow, Workflow.id == Automation.workflow_id)
                .where(
                    Automation.tenant_id == tenant,
                    Automation.source == source,
                    Automation.enabled.is_(True),
                )
                .order_by(Automation.name)
            )
            return [
                (
                    row.id,
                    AutomationDefinition.from_stored(
                        name=row.name, source=row.source, workflow=slug, rule=row.rule
                    ),
                )
                for row, slug in rows
            ]


async def _workflow_id(session: AsyncSession, tenant: str, name: str) -> int:
    ids = await workflow_ids_for(session, tenant=tenant, names=[name])
    if not ids:
        raise NotFound(f"workflow {name!r} does not exist", field="workflow")
    return next(iter(ids))

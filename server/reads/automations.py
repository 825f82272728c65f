"""Automations with how often and when they last dispatched a job."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Automation, Job


@dataclass(frozen=True)
class AutomationRow:
    id: int
    name: str
    source: str
    workflow_id: int
    enabled: bool
    triggered_count: int
    last_triggered_at: datetime | None


def _with_triggers(tenant: str) -> Select[Automation, int, datetime]:
    return (
        select(Automation, func.count(Job.number), func.max(Job.created_at))
        .outerjoin(Job, Job.automation_id == Automation.id)
        .where(Automation.tenant_id == tenant)
        .group_by(Automation.id)
    )


def _row(automation: Automation, count: int, last: datetime | None) -> AutomationRow:
    return AutomationRow(
        id=automation.id,
        name=automation.name,
        source=automation.source,
        workflow_id=automation.workflow_id,
        enabled=automation.enabled,
        triggered_count=count,
        last_triggered_at=last,
    )


async def list_automations(session: AsyncSession, *, tenant: str) -> list[AutomationRow]:
    rows = await session.execute(_with_triggers(tenant).order_by(Automation.name))
    return [_row(*row) for row in rows]


async def automations_by_id(
    session: AsyncSession, *, tenant: str, ids: Sequence[int]
) -> dict[int, AutomationRow]:
    rows = await session.execute(_with_triggers(tenant).where(Automation.id.in_(ids)))
    return {automation.id: _row(automation, count, last) for automation, count, last in rows}

"""Agent and workflow lists, paged by primary key."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agent, Workflow


async def list_agents(
    session: AsyncSession, *, tenant: str, after_id: int | None, limit: int
) -> list[Agent]:
    statement = select(Agent).where(Agent.tenant_id == tenant)
    if after_id is not None:
        statement = statement.where(Agent.id > after_id)
    return list(await session.scalars(statement.order_by(Agent.id).limit(limit)))


async def count_agents(session: AsyncSession, *, tenant: str) -> int:
    statement = select(func.count()).select_from(Agent).where(Agent.tenant_id == tenant)
    return int(await session.scalar(statement) or 0)


async def list_workflows(
    session: AsyncSession, *, tenant: str, after_id: int | None, limit: int
) -> list[Workflow]:
    statement = select(Workflow).where(Workflow.tenant_id == tenant)
    if after_id is not None:
        statement = statement.where(Workflow.id > after_id)
    return list(await session.scalars(statement.order_by(Workflow.id).limit(limit)))


async def count_workflows(session: AsyncSession, *, tenant: str) -> int:
    statement = select(func.count()).select_from(Workflow).where(Workflow.tenant_id == tenant)
    return int(await session.scalar(statement) or 0)

"""Storing workflow definitions: loading a slug again updates it in place."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Workflow

from .definition import WorkflowDefinition
from .files import read_workflows


async def save_workflows(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    tenant: str,
    definitions: Sequence[WorkflowDefinition],
) -> list[Workflow]:
    """Insert or update each definition by slug, in one transaction."""
    async with session_factory() as session, session.begin():
        slugs = [definition.slug for definition in definitions]
        statement = select(Workflow).where(Workflow.tenant_id == tenant, Workflow.slug.in_(slugs))
        existing = {row.slug: row for row in await session.scalars(statement)}
        saved: list[Workflow] = []
        for definition in definitions:
            row = existing.get(definition.slug) or Workflow(
                tenant_id=tenant, slug=definition.slug, created_at=datetime.now(UTC)
            )
            row.display_name = definition.display_name
            row.aliases = list(definition.aliases)
            row.input_schema = definition.input_schema
            row.definition = definition.stored_definition()
            row.source = definition.source
            session.add(row)
            saved.append(row)
    return saved


async def load_workflow_files(
    session_factory: async_sessionmaker[AsyncSession], *, tenant: str, paths: Sequence[Path]
) -> list[WorkflowDefinition]:
    """Read every workflow under `paths` (all checked first) and store them."""
    definitions = read_workflows(paths)
    await save_workflows(session_factory, tenant=tenant, definitions=definitions)
    return definitions

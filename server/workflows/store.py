"""Storing workflow definitions: loading a slug again updates it in place."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Workflow
from server.domain.chains import chain_cycle, follow_up_rules

from .definition import DefinitionError, WorkflowDefinition
from .files import read_workflows


async def save_workflows(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    tenant: str,
    definitions: Sequence[WorkflowDefinition],
) -> list[Workflow]:
    """Insert or update each definition by slug, in one transaction; a chain of follow-ups
    that would come back to where it started (with the tenant's other workflows) is refused
    with a DefinitionError and nothing is stored."""
    async with session_factory() as session, session.begin():
        statement = select(Workflow).where(Workflow.tenant_id == tenant)
        existing = {row.slug: row for row in await session.scalars(statement)}
        _refuse_cycles(existing.values(), definitions)
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


def _refuse_cycles(stored: Iterable[Workflow], definitions: Sequence[WorkflowDefinition]) -> None:
    edges: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for row in stored:
        names.update(dict.fromkeys(row.aliases or (), row.slug) | {row.slug: row.slug})
        edges[row.slug] = [rule.workflow for rule in follow_up_rules(row.definition)]
    for definition in definitions:
        names.update(dict.fromkeys(definition.aliases, definition.slug))
        names[definition.slug] = definition.slug
        edges[definition.slug] = [rule.workflow for rule in definition.follow_ups]
    resolved = {
        slug: [names.get(target, target) for target in targets] for slug, targets in edges.items()
    }
    cycle = chain_cycle(resolved)
    if cycle is not None:
        raise DefinitionError(f"follow_ups: a chain may not come back: {' -> '.join(cycle)}")

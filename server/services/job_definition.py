"""What a new job is made of: the workflow definition frozen for it, the effort its level
resolves to, and its steps."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, JobStep, Workflow
from server.domain.definition import frozen_definition, stored_effort
from server.domain.enums import EffortLevel
from server.domain.errors import InvalidArgument


def freeze(workflow: Workflow) -> dict[str, Any]:
    """The workflow's definition as it is now: loading a changed file later affects new jobs
    only."""
    return frozen_definition(workflow.definition, workflow.source)


def resolve_effort(
    definition: dict[str, Any], level: EffortLevel | None, *, workflow: str
) -> tuple[EffortLevel | None, dict[str, str] | None]:
    """The level (the definition's default when none was asked for) and the values it maps to.

    A workflow that maps levels accepts only those; one that maps none accepts any level, which
    then only shows as JOB_EFFORT.
    """
    effort = stored_effort(definition)
    if effort is None:
        return level, None
    chosen = level or (EffortLevel(effort.default) if effort.default else None)
    if chosen is None:
        return None, None
    if chosen.value not in effort.levels:
        defined = ", ".join(sorted(effort.levels))
        raise InvalidArgument(
            f"workflow {workflow!r} defines no effort level {chosen.value} (it defines {defined})",
            field="effortLevel",
        )
    return chosen, dict(effort.levels[chosen.value])


def add_steps(session: AsyncSession, job: Job, definition: dict[str, Any]) -> None:
    steps = definition.get("steps") or []
    for index, step in enumerate(steps):
        session.add(
            JobStep(tenant_id=job.tenant_id, job_number=job.number, index=index, name=step["name"])
        )
    job.step_count = len(steps)

"""The workflow definition a job runs with, frozen when the job was created."""

from typing import Any, Self

import strawberry

from server.workflows.definition import parse_steps


@strawberry.type
class JobDefinitionStep:
    name: str
    run: str
    retries: int
    timeout_seconds: int | None
    approval: bool


@strawberry.type(
    description="The workflow definition a job runs with, frozen when the job was created."
)
class JobDefinition:
    version: str = strawberry.field(description="Content hash of the definition.")
    source: str = strawberry.field(description="The definition's YAML text.")
    steps: list[JobDefinitionStep]

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> Self | None:
        """None for jobs created before definitions were frozen (or imported without one)."""
        if stored is None or "version" not in stored:
            return None
        return cls(
            version=stored["version"],
            source=stored.get("source") or "",
            steps=[
                JobDefinitionStep(
                    name=step.name,
                    run=step.run or "",
                    retries=step.retries,
                    timeout_seconds=round(step.timeout_seconds) if step.timeout_seconds else None,
                    approval=step.approval,
                )
                for step in parse_steps(stored)
            ],
        )

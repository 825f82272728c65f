"""Artifact: a file a step wrote, downloaded from its `url` with the API's token."""

from collections.abc import Iterable
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay

from resolvers.context import Info
from server.db import models
from server.domain.downloads import artifact_path

from .node_rows import nodes_by_id


@strawberry.type
class Artifact(relay.Node):
    id_: relay.NodeID[int]
    name: str
    content_type: str
    size_bytes: float
    step: int | None = strawberry.field(description="Index of the step that produced it.")
    created_at: datetime

    @strawberry.field(description="Where to download it (same token, same tenant as the API).")
    def url(self) -> str:
        return artifact_path(self.id_)

    @classmethod
    def from_row(cls, row: models.Artifact) -> Self:
        return cls(
            id_=row.id,
            name=row.name,
            content_type=row.content_type,
            size_bytes=float(row.size_bytes),
            step=row.step,
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await nodes_by_id(
            info.context.loaders.rows.artifact, node_ids, "an artifact", cls.from_row
        )


async def artifacts_of(info: Info, job_number: int, step: int | None = None) -> list[Artifact]:
    """The job's artifacts (or one step's), oldest first."""
    rows = await info.context.loaders.rows.artifacts.load(job_number)
    return [Artifact.from_row(row) for row in rows if step is None or row.step == step]

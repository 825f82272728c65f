"""Artifacts by job and by id, of one tenant (those whose bytes are all stored)."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import PENDING_ARTIFACT, Artifact


async def artifacts_by_job(
    session: AsyncSession, *, tenant: str, numbers: Sequence[int]
) -> dict[int, list[Artifact]]:
    """Each job's artifacts, oldest first."""
    rows = await session.scalars(
        select(Artifact)
        .where(
            Artifact.tenant_id == tenant,
            Artifact.job_number.in_(numbers),
            Artifact.sha256 != PENDING_ARTIFACT,
        )
        .order_by(Artifact.job_number, Artifact.id)
    )
    grouped: dict[int, list[Artifact]] = defaultdict(list)
    for row in rows:
        grouped[row.job_number].append(row)
    return grouped


async def artifacts_by_id(
    session: AsyncSession, *, tenant: str, ids: Sequence[int]
) -> dict[int, Artifact]:
    rows = await session.scalars(
        select(Artifact).where(
            Artifact.tenant_id == tenant, Artifact.id.in_(ids), Artifact.sha256 != PENDING_ARTIFACT
        )
    )
    return {row.id: row for row in rows}

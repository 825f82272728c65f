"""What an artifact store must do, and which one a deployment gets.

Three operations, all keyed by the artifact row's id: `save` the bytes (after the row is
inserted as pending, before it is completed: no transaction of the caller is open meanwhile),
`read` a byte range as it is sent (never the whole file in memory), `discard` the bytes of rows
already deleted. An object store (S3, GCS) fits the same three: a multipart upload, a ranged GET, a
batch DELETE.
"""

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.settings import ArtifactStoreKind

from .database import DatabaseStore
from .directory import DirectoryStore


class ArtifactStore(Protocol):
    async def save(self, artifact_id: int, chunks: AsyncIterator[bytes]) -> None:
        """Keep the bytes `chunks` yields as the artifact's (replacing any)."""

    def read(self, artifact_id: int, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the artifact, a chunk at a time."""

    async def discard(self, artifact_ids: Sequence[int]) -> None:
        """Forget the bytes of artifacts whose rows are gone (committed)."""


def store_for(
    kind: ArtifactStoreKind,
    *,
    directory: Path,
    session_factory: async_sessionmaker[AsyncSession],
    dialect: str,
) -> ArtifactStore:
    """`directory` and `database` as said; `auto`: the database on PostgreSQL (every replica
    serves every artifact with nothing else to run), the directory otherwise."""
    if kind is ArtifactStoreKind.DATABASE and dialect != "postgresql":
        raise ValueError("JOBMONITOR_ARTIFACTS_STORE=database needs a PostgreSQL database")
    if kind is ArtifactStoreKind.DATABASE or (
        kind is ArtifactStoreKind.AUTO and dialect == "postgresql"
    ):
        return DatabaseStore(session_factory)
    return DirectoryStore(directory)

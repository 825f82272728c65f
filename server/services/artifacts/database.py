"""Artifacts inside PostgreSQL, in rows of 256 KiB (`artifact_chunks`): every API replica
serves every artifact with nothing else to run. Read a chunk per statement, so a long download
holds no connection between chunks."""

from collections.abc import AsyncIterator, Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import ArtifactChunk

CHUNK_BYTES = 256 * 1024


class DatabaseStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def save(self, artifact_id: int, chunks: AsyncIterator[bytes]) -> None:
        """All chunks in one transaction of their own: it locks only the artifact's rows."""
        async with self._session_factory() as session, session.begin():
            await session.execute(
                delete(ArtifactChunk).where(ArtifactChunk.artifact_id == artifact_id)
            )
            index = 0
            pending = bytearray()
            async for chunk in chunks:
                pending += chunk
                while len(pending) >= CHUNK_BYTES:
                    await _insert(session, artifact_id, index, bytes(pending[:CHUNK_BYTES]))
                    del pending[:CHUNK_BYTES]
                    index += 1
            if pending or index == 0:
                await _insert(session, artifact_id, index, bytes(pending))

    async def read(self, artifact_id: int, start: int, end: int) -> AsyncIterator[bytes]:
        for index in range(start // CHUNK_BYTES, (end - 1) // CHUNK_BYTES + 1 if end else 0):
            async with self._session_factory() as session:
                data = await session.scalar(
                    select(ArtifactChunk.data).where(
                        ArtifactChunk.artifact_id == artifact_id, ArtifactChunk.index == index
                    )
                )
            if data is None:
                return
            offset = index * CHUNK_BYTES
            yield data[max(start - offset, 0) : end - offset]

    async def discard(self, artifact_ids: Sequence[int]) -> None:
        """Nothing left to do: the chunks went with their rows (ON DELETE CASCADE)."""


async def _insert(session: AsyncSession, artifact_id: int, index: int, data: bytes) -> None:
    await session.execute(
        insert(ArtifactChunk).values(artifact_id=artifact_id, index=index, data=data)
    )

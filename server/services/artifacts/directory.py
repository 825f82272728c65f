"""Artifacts as files in a local directory (JOBMONITOR_ARTIFACTS_DIR), one per artifact, named
by id: what a step called its file never becomes a path here."""

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio

READ_BYTES = 1 << 16


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self._root = anyio.Path(root)

    def _path(self, artifact_id: int) -> anyio.Path:
        """Spread over folders of a thousand, so no folder grows without end."""
        return self._root / f"{artifact_id // 1000:07d}" / str(artifact_id)

    async def save(self, artifact_id: int, chunks: AsyncIterator[bytes]) -> None:
        target = self._path(artifact_id)
        await target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.part")
        async with await anyio.open_file(partial, "wb") as file:
            async for chunk in chunks:
                await file.write(chunk)
        await partial.rename(target)

    async def read(self, artifact_id: int, start: int, end: int) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(artifact_id), "rb") as file:
            await file.seek(start)
            left = end - start
            while left > 0:
                chunk = await file.read(min(READ_BYTES, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    async def discard(self, artifact_ids: Sequence[int]) -> None:
        for artifact_id in artifact_ids:
            await self._path(artifact_id).unlink(missing_ok=True)

"""Keeping the files steps write: checked, named safely, typed, stored, announced.

A file over the per-artifact cap, or one that would take its job over the per-job cap, is
refused (InvalidArgument, which the agent turns into a SYSTEM log line); so is a name that
holds nothing usable. Uploading the same name again for the same attempt replaces it.
"""

import hashlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import PENDING_ARTIFACT, Artifact, Job
from server.domain.artifact_names import SNIFF_BYTES, content_type, safe_name
from server.domain.errors import InvalidArgument, NotFound
from server.events import EventBus, JobChanged

from ..unit_of_work import unit_of_work
from .store import ArtifactStore

READ_BYTES = 1 << 16


@dataclass(frozen=True)
class ArtifactLimits:
    per_artifact: int
    per_job: int


@dataclass(frozen=True)
class Upload:
    """A file a step attempt wrote."""

    tenant: str
    job_number: int
    step: int | None
    attempt: int | None
    name: str
    source: Path


class ArtifactService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        store: ArtifactStore,
        limits: ArtifactLimits,
        *,
        scan_seconds: float = 1.0,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self.store = store
        self._limits = limits
        self.scan_seconds = scan_seconds
        """How often an agent looks for new files in a running step's folder."""

    async def add(self, upload: Upload) -> Artifact:
        """Three steps, so no transaction stays open while the bytes are copied (on SQLite that
        would hold the one write lock for the whole upload): a short transaction checks the caps
        and inserts the row as pending (no digest yet: reads do not list it), the store keeps
        the bytes, a second short transaction completes the row and tells the subscribers."""
        name = safe_name(upload.name)
        source = anyio.Path(upload.source)
        size = (await source.stat()).st_size
        self._check_size(name, size)
        async with await anyio.open_file(source, "rb") as file:
            head = await file.read(SNIFF_BYTES)
        pending, replaced = await self._pending(upload, name, size, content_type(name, head))
        reading = _Reading(source, name, self._check_size)
        try:
            await self.store.save(pending.id, reading.chunks())
        except BaseException:
            await self._forget(pending.id)
            raise
        async with unit_of_work(self._session_factory, self._bus) as work:
            row = await work.session.get_one(Artifact, pending.id)
            row.size_bytes, row.sha256 = reading.size, reading.digest.hexdigest()
            work.notify(JobChanged(tenant=upload.tenant, job_number=upload.job_number))
        if replaced is not None:
            await self.store.discard([replaced])
        return row

    async def _pending(
        self, upload: Upload, name: str, size: int, kind: str
    ) -> tuple[Artifact, int | None]:
        """The new row, pending, and the id of the artifact of the same name it replaces."""
        async with unit_of_work(self._session_factory, self._bus) as work:
            session = work.session
            await _job_of(session, upload.tenant, upload.job_number)
            replaced = await session.scalar(
                select(Artifact).where(
                    Artifact.job_number == upload.job_number,
                    Artifact.step == upload.step,
                    Artifact.attempt == upload.attempt,
                    Artifact.name == name,
                )
            )
            used = await _job_bytes(session, upload.job_number)
            if replaced is not None:
                used -= replaced.size_bytes
                await session.delete(replaced)
                await session.flush()
            if used + size > self._limits.per_job:
                raise InvalidArgument(
                    f"{name}: {size} bytes would take the job's artifacts over "
                    f"{self._limits.per_job} bytes; skipped",
                    field="size",
                )
            row = Artifact(
                tenant_id=upload.tenant,
                job_number=upload.job_number,
                step=upload.step,
                attempt=upload.attempt,
                name=name,
                content_type=kind,
                size_bytes=size,
                sha256=PENDING_ARTIFACT,
                created_at=datetime.now(UTC),
            )
            session.add(row)
        return row, replaced.id if replaced is not None else None

    async def _forget(self, artifact_id: int) -> None:
        """An upload that failed half-way: its row and whatever bytes got stored."""
        async with self._session_factory() as session, session.begin():
            await session.execute(delete(Artifact).where(Artifact.id == artifact_id))
        await self.store.discard([artifact_id])

    def read(self, artifact: Artifact, start: int, end: int) -> AsyncIterator[bytes]:
        return self.store.read(artifact.id, start, end)

    async def discard(self, artifact_ids: Sequence[int]) -> None:
        await self.store.discard(artifact_ids)

    def _check_size(self, name: str, size: int) -> None:
        if size > self._limits.per_artifact:
            raise InvalidArgument(
                f"{name}: {size} bytes is over the {self._limits.per_artifact}-byte cap per "
                "artifact; skipped",
                field="size",
            )


class _Reading:
    """A file's bytes as they are stored: hashed and counted as they go; a file that grew past
    the cap while being read is refused all the same."""

    def __init__(self, source: anyio.Path, name: str, check: Callable[[str, int], None]) -> None:
        self._source = source
        self._name = name
        self._check = check
        self.digest = hashlib.sha256()
        self.size = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._source, "rb") as file:
            while chunk := await file.read(READ_BYTES):
                self.size += len(chunk)
                self._check(self._name, self.size)
                self.digest.update(chunk)
                yield chunk


async def _job_of(session: AsyncSession, tenant: str, number: int) -> None:
    found = await session.scalar(
        select(Job.number).where(Job.tenant_id == tenant, Job.number == number)
    )
    if found is None:
        raise NotFound(f"job #{number} does not exist", field="id")


async def _job_bytes(session: AsyncSession, number: int) -> int:
    used = await session.scalar(
        select(func.coalesce(func.sum(Artifact.size_bytes), 0)).where(Artifact.job_number == number)
    )
    return int(used or 0)

"""A step attempt's `JOB_ARTIFACTS` folder, watched while the step runs and swept after it.

While the command runs, a file is uploaded once it stopped changing between two looks (so a
screenshot shows up while the step goes on, and a file still being written is not taken
half-way); after the command, everything not yet uploaded, or changed since, is. A file that
is refused (too large, no usable name) or is not a regular file (a link could point anywhere
on the agent) is skipped with a SYSTEM line, once; the step goes on either way.
"""

import asyncio
import os
import shutil
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from server.domain.enums import LogStream
from server.domain.errors import DomainError
from server.services.artifacts.service import ArtifactService, Upload

from .log_sink import LogSink

Signature = tuple[int, int]
"""A file's size and modification time: what tells a changed file."""


@dataclass(frozen=True)
class Entry:
    name: str
    """Its path relative to the folder."""
    path: Path
    signature: Signature
    regular: bool
    """A plain file (not a link, a folder link, a device or a pipe)."""


@dataclass(frozen=True)
class AttemptFolder:
    tenant: str
    job_number: int
    step: int
    attempt: int
    path: Path

    @classmethod
    def made(
        cls, parent: Path, *, tenant: str, job_number: int, step: int, attempt: int
    ) -> "AttemptFolder":
        """An empty folder for the attempt under `parent`."""
        path = parent / f"artifacts-{step}-{attempt}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return cls(tenant=tenant, job_number=job_number, step=step, attempt=attempt, path=path)


class ArtifactCollector:
    def __init__(self, artifacts: ArtifactService, folder: AttemptFolder, log: LogSink) -> None:
        self._artifacts = artifacts
        self._folder = folder
        self._log = log
        self._seen: dict[str, Signature] = {}
        """What each file looked like at the last look."""
        self._done: dict[str, Signature] = {}
        """What each file looked like when it was uploaded or skipped."""

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Settled files are uploaded while the block runs."""
        task = asyncio.create_task(self._watch(self._artifacts.scan_seconds))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.sweep(final=False)

    async def sweep(self, *, final: bool) -> None:
        for entry in await asyncio.to_thread(self._listing):
            if self._done.get(entry.name) == entry.signature:
                continue
            settled = self._seen.get(entry.name) == entry.signature
            self._seen[entry.name] = entry.signature
            if final or settled:
                self._done[entry.name] = entry.signature
                await self._upload(entry)

    async def _upload(self, entry: Entry) -> None:
        if not entry.regular:
            self._skipped(entry.name, "not a regular file")
            return
        folder = self._folder
        upload = Upload(
            tenant=folder.tenant,
            job_number=folder.job_number,
            step=folder.step,
            attempt=folder.attempt,
            name=entry.name,
            source=entry.path,
        )
        try:
            await self._artifacts.add(upload)
        except DomainError as refused:
            self._skipped(entry.name, refused.message)

    def _skipped(self, name: str, why: str) -> None:
        self._log.note(LogStream.SYSTEM, f"artifact {name!r} skipped: {why}")

    def _listing(self) -> list[Entry]:
        """Every entry under the folder (links not followed)."""
        found = []
        for directory, folders, files in os.walk(self._folder.path):
            for name in (*files, *(f for f in folders if Path(directory, f).is_symlink())):
                path = Path(directory, name)
                status = path.lstat()
                found.append(
                    Entry(
                        name=path.relative_to(self._folder.path).as_posix(),
                        path=path,
                        signature=(status.st_size, status.st_mtime_ns),
                        regular=stat.S_ISREG(status.st_mode),
                    )
                )
        return found

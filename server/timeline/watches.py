"""Live timelines: one Temporal lookup per change of a job, shared by all its subscribers.

A job's timeline changes as its workflow's activities start, retry and end; the execution
publishes a notice (through the bus, to every process) each time it records one of those. Per
job watched in this process, one watcher wakes on those notices (many at once are one), reads
the job here and its run from Temporal once (describe: the run, counted, and its activities in
flight; then, for an open run, its history) and hands the result to every subscriber. Nothing
polls Temporal, and a subscriber costs no lookup of its own.

The run closes only after the job's last notice (Teardown records the end, then the workflow
returns): once the job has ended here while its run is still open, the watcher also waits for
the run to close (one long poll, at most `close_wait` seconds) and reads once more.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, pipeline_id
from server.domain.errors import NotFound
from server.domain.rules import FINAL_STATUSES
from server.reads import rows
from server.timeline.phases import Phase, build_phases
from server.timeline.runs import RunSummary

from .gateway import HistoryGone, TemporalGateway, TemporalUnreachable
from .histories import HistorySource
from .reasons import NO_HISTORY, UNREACHABLE

logger = logging.getLogger(__name__)
JobKey = tuple[str, int]
T = TypeVar("T")


class Changed(Protocol):
    async def wait(self) -> None:
        """Return once something changed since the last wait (many changes are one)."""
        ...


class JobChanges(Protocol):
    """Where a watcher learns that a job changed, and reads it: the process's live hub."""

    def job_signal(self, tenant: str, number: int) -> AbstractAsyncContextManager[Changed]: ...

    async def read(self, query: Callable[[AsyncSession], Awaitable[T]]) -> T: ...


@dataclass(frozen=True)
class TimelineView:
    """One lookup: the job as recorded here, and its run as Temporal has it (or why not)."""

    job: Job
    run: RunSummary | str
    phases: list[Phase]


@dataclass(eq=False)
class _Watched:
    """The latest view of one job, and the subscribers waiting for the next."""

    view: TimelineView | None = None
    version: int = 0
    subscribers: set[asyncio.Event] = field(default_factory=set)
    follower: "asyncio.Task[None] | None" = None

    def publish(self, view: TimelineView) -> None:
        self.view = view
        self.version += 1
        for signal in self.subscribers:
            signal.set()


class TimelineWatches:
    def __init__(
        self, gateway: TemporalGateway, histories: HistorySource, *, close_wait: float
    ) -> None:
        self._gateway = gateway
        self._histories = histories
        self._close_wait = close_wait
        self._watched: dict[JobKey, _Watched] = {}

    def watching(self) -> int:
        """How many jobs have a watcher (for tests and metrics)."""
        return len(self._watched)

    async def views(
        self, hub: JobChanges, *, tenant: str, number: int
    ) -> AsyncIterator[TimelineView]:
        """The job's timeline now, then after each change; raises NotFound for no such job."""
        job = await _job(hub, tenant, number)
        if job is None:
            raise NotFound(f"job #{number} does not exist", field="id")
        async with self._subscribed(hub, (tenant, number)) as (watched, signal):
            seen = 0
            while True:
                await signal.wait()
                signal.clear()
                if watched.version > seen and watched.view is not None:
                    seen = watched.version
                    yield watched.view

    @asynccontextmanager
    async def _subscribed(
        self, hub: JobChanges, key: JobKey
    ) -> AsyncIterator[tuple[_Watched, asyncio.Event]]:
        watched = self._watched.get(key) or self._watched.setdefault(key, _Watched())
        signal = asyncio.Event()
        watched.subscribers.add(signal)
        if watched.view is not None:
            signal.set()
        if watched.follower is None:
            watched.follower = asyncio.create_task(self._follow(hub, key, watched))
        try:
            yield watched, signal
        finally:
            watched.subscribers.discard(signal)
            if not watched.subscribers:
                del self._watched[key]
                watched.follower.cancel()

    async def _follow(self, hub: JobChanges, key: JobKey, watched: _Watched) -> None:
        tenant, number = key
        async with hub.job_signal(tenant, number) as changed:
            waited_for: str | None = None
            while True:
                view = await self._look_up(hub, tenant, number)
                if view is not None:
                    watched.publish(view)
                closing = self._closing(view, waited_for)
                if closing is None:
                    await changed.wait()
                else:
                    waited_for = closing.run_id
                    await _either(
                        changed.wait(),
                        self._gateway.wait_closed(closing, within=self._close_wait),
                    )

    @staticmethod
    def _closing(view: TimelineView | None, waited_for: str | None) -> RunSummary | None:
        """The run to wait for the close of: open while the job has ended here (once)."""
        if view is None or isinstance(view.run, str) or view.run.closed:
            return None
        if view.job.status not in FINAL_STATUSES or view.run.run_id == waited_for:
            return None
        return view.run

    async def _look_up(self, hub: JobChanges, tenant: str, number: int) -> TimelineView | None:
        """The job's view now; None when the job is gone or cannot be read (logged)."""
        try:
            job = await _job(hub, tenant, number)
        except Exception:
            logger.exception("live timeline of job #%d: reading the job failed", number)
            return None
        if job is None:
            return None
        try:
            described = await self._gateway.describe(
                job.temporal_workflow_id or pipeline_id(number)
            )
            run = described.run
            if run.closed:
                phases = await self._histories.phases(run)
            else:
                events = await self._gateway.events(run)
                phases = build_phases(events, described.pending, now=datetime.now(UTC))
        except TemporalUnreachable:
            return TimelineView(job, UNREACHABLE, [])
        except HistoryGone:
            return TimelineView(job, NO_HISTORY, [])
        return TimelineView(job, run, phases)


async def _job(hub: JobChanges, tenant: str, number: int) -> Job | None:
    found = await hub.read(partial(rows.jobs_by_number, tenant=tenant, numbers=[number]))
    return found.get(number)


async def _either(*waits: Coroutine[Any, Any, None]) -> None:
    """Wait until one of `waits` is done; the others are cancelled."""
    tasks = [asyncio.create_task(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

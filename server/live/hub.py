"""The live hub of one process: it turns bus notices into wake-ups of the live streams.

Status events are read once per process by one tail that follows `job_events` in sequence
order (the notices only say that there is something new), then each distinct (tenant, filter)
group evaluates its filter once per event and fills the inboxes of its streams. Other
changes (a job's fields, its log, the tab counts) wake the streams that watch them; those
streams read what they need themselves.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import zip_longest
from typing import TypeVar, assert_never

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Job, JobEvent
from server.domain.filters import JobFilter
from server.events import (
    Delivery,
    EventBus,
    JobChanged,
    JobDeleted,
    LogAppended,
    Resync,
    TokenRevoked,
)
from server.observability.metrics import FANOUT_LAG
from server.reads import status_events

from .feeds import Feed, Signal

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
TAIL_PAGE = 500
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusChange:
    event: JobEvent
    job: Job

    @property
    def sequence(self) -> int:
        return self.event.sequence


class _StatusGroup:
    """The streams of one tenant that share one filter."""

    def __init__(self, job_filter: JobFilter) -> None:
        self.job_filter = job_filter
        self.statuses = frozenset(job_filter.statuses)
        self.needs_query = job_filter.without_statuses() != JobFilter()
        self.feeds: set[Feed[StatusChange]] = set()

    def deliver(self, changes: list[StatusChange]) -> None:
        for feed in list(self.feeds):
            for change in changes:
                feed.put(change)

    def status_matches(self, event: JobEvent) -> bool:
        return not self.statuses or bool(
            {event.to_status, event.from_status}.intersection(self.statuses)
        )


class LiveHub:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        feed_limit: int = 1024,
        counts_interval: float = 0.25,
        poll_seconds: float = 5.0,
        query_concurrency: int = 4,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self.feed_limit = feed_limit
        self.counts_interval = counts_interval
        self.query_concurrency = query_concurrency
        self._poll_seconds = poll_seconds
        self._groups: dict[tuple[str, JobFilter], _StatusGroup] = {}
        self._jobs: dict[tuple[str, int], set[Signal]] = {}
        self._logs: dict[tuple[str, int], set[Signal]] = {}
        self._tenants: dict[str, set[Signal]] = {}
        self._cursor = 0
        self._tail_due = asyncio.Event()
        self._start_lock = asyncio.Lock()
        self._pump: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Listen to the bus and start the tail; the first live stream does this."""
        async with self._start_lock:
            if self._pump is not None:
                return
            self._unsubscribe = self._bus.subscribe(self._received)
            await self._bus.start()
            self._cursor = await self.read(status_events.latest_sequence)
            self._pump = asyncio.create_task(self._follow(), name="live-hub")

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._pump is not None:
            self._pump.cancel()
            with suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None

    async def read(self, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One short read: live streams never hold a session between two events."""
        async with self._session_factory() as session:
            return await query(session)

    def watching(self) -> int:
        """How many streams are registered (for tests and metrics)."""
        groups = sum(len(group.feeds) for group in self._groups.values())
        signals = (len(s) for r in (self._jobs, self._logs, self._tenants) for s in r.values())
        return groups + sum(signals)

    @asynccontextmanager
    async def status_feed(
        self, tenant: str, job_filter: JobFilter
    ) -> AsyncIterator[Feed[StatusChange]]:
        await self.start()
        key = (tenant, job_filter)
        group = self._groups.get(key) or self._groups.setdefault(key, _StatusGroup(job_filter))
        feed: Feed[StatusChange] = Feed(self.feed_limit)
        group.feeds.add(feed)
        try:
            yield feed
        finally:
            group.feeds.discard(feed)
            if not group.feeds:
                self._groups.pop(key, None)

    def job_signal(self, tenant: str, number: int) -> AbstractAsyncContextManager[Signal]:
        """Set whenever anything about the job changes."""
        return self._watch(self._jobs, (tenant, number))

    def log_signal(self, tenant: str, number: int) -> AbstractAsyncContextManager[Signal]:
        """Set whenever the job has new log lines."""
        return self._watch(self._logs, (tenant, number))

    def counts_signal(self, tenant: str) -> AbstractAsyncContextManager[Signal]:
        """Set whenever a job of the tenant changes status."""
        return self._watch(self._tenants, tenant)

    @asynccontextmanager
    async def _watch(self, registry: dict[K, set[Signal]], key: K) -> AsyncIterator[Signal]:
        await self.start()
        signal = Signal()
        registry.setdefault(key, set()).add(signal)
        try:
            yield signal
        finally:
            watchers = registry.get(key)
            if watchers is not None:
                watchers.discard(signal)
                if not watchers:
                    del registry[key]

    def _received(self, notices: Sequence[Delivery]) -> None:
        for notice in notices:
            match notice:
                case Resync():
                    self._wake_all()
                case LogAppended():
                    _wake(self._logs.get((notice.tenant, notice.job_number)))
                case JobChanged():
                    _wake(self._jobs.get((notice.tenant, notice.job_number)))
                    if notice.sequence is not None:
                        _wake(self._tenants.get(notice.tenant))
                        self._tail_due.set()
                case JobDeleted():
                    _wake(self._jobs.get((notice.tenant, notice.job_number)))
                    _wake(self._tenants.get(notice.tenant))
                case TokenRevoked():
                    pass  # the gate's business, not the live streams'
                case _:
                    assert_never(notice)

    def _wake_all(self) -> None:
        for registry in (self._jobs, self._logs, self._tenants):
            for signals in registry.values():
                _wake(signals)
        self._tail_due.set()

    async def _follow(self) -> None:
        """Tail the status events whenever a notice says there are new ones, and every few
        seconds anyway, so a notification lost with a dropped connection delays, not loses."""
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._tail_due.wait(), self._poll_seconds)
            self._tail_due.clear()
            try:
                await self._tail()
            except Exception:
                logger.exception("live hub: reading status events failed; retrying")
                await asyncio.sleep(1)
                self._tail_due.set()

    async def _tail(self) -> None:
        while True:
            rows = await self.read(
                partial(status_events.events_after, after=self._cursor, limit=TAIL_PAGE)
            )
            if not rows:
                return
            self._cursor = rows[-1][0].sequence
            _observe_lag(rows)
            await self._dispatch([StatusChange(event, job) for event, job in rows])
            if len(rows) < TAIL_PAGE:
                return

    async def _dispatch(self, changes: list[StatusChange]) -> None:
        """Each group gets the changes it matches. Groups whose filter needs a query are
        queried `query_concurrency` at a time, taken in turn from each tenant, and each is
        served as soon as its own query answers: a tenant with a thousand filters delays
        another tenant by one round at most."""
        by_tenant: dict[str, list[StatusChange]] = {}
        for change in changes:
            by_tenant.setdefault(change.event.tenant_id, []).append(change)
        queued: dict[str, list[tuple[_StatusGroup, list[StatusChange]]]] = {}
        for (tenant, _), group in list(self._groups.items()):
            candidates = by_tenant.get(tenant)
            if not candidates:
                continue
            matching = [c for c in candidates if group.status_matches(c.event)]
            if matching and group.needs_query:
                queued.setdefault(tenant, []).append((group, matching))
            else:
                group.deliver(matching)
        turns = [turn for round_ in zip_longest(*queued.values()) for turn in round_ if turn]
        pending = iter(turns)
        async with asyncio.TaskGroup() as workers:
            for _ in range(min(self.query_concurrency, len(turns))):
                workers.create_task(self._query_in_turn(pending))

    async def _query_in_turn(
        self, pending: Iterator[tuple[_StatusGroup, list[StatusChange]]]
    ) -> None:
        """One of the workers that share `pending`: each takes the next group when free."""
        for group, matching in pending:
            tenant = matching[0].event.tenant_id
            found = await self._matching(tenant, group.job_filter, matching)
            group.deliver([c for c in matching if c.job.number in found])

    async def _matching(
        self, tenant: str, job_filter: JobFilter, changes: list[StatusChange]
    ) -> set[int]:
        numbers = [change.job.number for change in changes]
        return await self.read(
            lambda session: status_events.jobs_matching(
                session, tenant=tenant, job_filter=job_filter, numbers=numbers
            )
        )


def _observe_lag(rows: Sequence[tuple[JobEvent, Job]]) -> None:
    now = datetime.now(UTC)
    for event, _job in rows:
        FANOUT_LAG.observe(max(0.0, (now - event.at).total_seconds()))


def _wake(signals: set[Signal] | None) -> None:
    for signal in signals or ():
        signal.set()

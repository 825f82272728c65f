"""A transaction that collects change notices and publishes them only once it has committed."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from server.db.models import Job
from server.events import EventBus, Notice

T = TypeVar("T")
RACE_RETRIES = 5


@dataclass
class UnitOfWork:
    session: AsyncSession
    notices: list[Notice] = field(default_factory=list)
    ended: list[Job] = field(default_factory=list)
    """Jobs this work moved to an end status (their chained follow-ups are made before it
    commits)."""

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


@asynccontextmanager
async def unit_of_work(
    session_factory: async_sessionmaker[AsyncSession], bus: EventBus
) -> AsyncIterator[UnitOfWork]:
    async with session_factory() as session:
        work = UnitOfWork(session)
        async with session.begin():
            yield work
    await bus.publish(work.notices)


async def run_retrying(
    session_factory: async_sessionmaker[AsyncSession],
    bus: EventBus,
    action: Callable[[UnitOfWork], Awaitable[T]],
) -> T:
    """Run `action` in a unit of work; a write that lost a race is retried on fresh data."""
    for attempt in range(RACE_RETRIES):
        try:
            async with unit_of_work(session_factory, bus) as work:
                return await action(work)
        except StaleDataError:
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")

"""The long-lived parts of a running process, built once by the app factory or the CLI."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.engine import create_engine, create_read_session_factory, create_session_factory
from server.events import EventBus
from server.events.factory import create_bus
from server.live.hub import LiveHub
from server.services.jobs import JobService
from server.settings import Settings
from server.temporal.orchestrator import create_orchestrator
from server.timeline.sources import TimelineSources


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    read_session_factory: async_sessionmaker[AsyncSession]
    bus: EventBus
    jobs: JobService
    live: LiveHub
    timeline: TimelineSources | None = None
    """Temporal's side of job timelines, with the caches shared by requests."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        engine = create_engine(settings.database_url, echo=settings.sql_echo)
        session_factory = create_session_factory(engine)
        bus = create_bus(settings.event_bus, engine)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            read_session_factory=create_read_session_factory(engine),
            bus=bus,
            jobs=JobService(session_factory, bus, create_orchestrator(settings)),
            live=LiveHub(
                session_factory,
                bus,
                feed_limit=settings.live_queue_size * 4,
                counts_interval=settings.counts_push_seconds,
            ),
            timeline=TimelineSources.from_settings(settings),
        )

    async def close(self) -> None:
        await self.live.close()
        await self.bus.close()
        await self.engine.dispose()

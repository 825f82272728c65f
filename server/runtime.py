"""The long-lived parts of a running process, built once by the app factory or the CLI."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.engine import create_engine, create_session_factory
from server.events import EventBus, InProcessBus
from server.services.jobs import JobService
from server.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bus: EventBus
    jobs: JobService

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        engine = create_engine(settings.database_url, echo=settings.sql_echo)
        session_factory = create_session_factory(engine)
        bus = InProcessBus()
        return cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            bus=bus,
            jobs=JobService(session_factory, bus),
        )

    async def close(self) -> None:
        await self.engine.dispose()

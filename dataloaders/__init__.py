"""Per-request readers: batch loaders for rows (every relation of a page of jobs loads in a
constant number of queries, whatever the page size) and the paged lists."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from server.timeline.sources import TimelineSources

from .lists import ListReader
from .rows import RowLoaders
from .schedule_times import NextRunTimes, schedule_times_loader
from .timeline import TimelineLoaders


@dataclass(frozen=True)
class Loaders:
    rows: RowLoaders
    lists: ListReader
    schedule_times: DataLoader[tuple[str, int], list[datetime]]
    timeline: TimelineLoaders | None = None
    """None when no Temporal is configured."""

    @classmethod
    def for_request(
        cls,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        tenant: str,
        exact_total_limit: int,
        next_run_times: NextRunTimes,
        timeline: TimelineSources | None = None,
    ) -> "Loaders":
        return cls(
            rows=RowLoaders(session_factory, tenant=tenant),
            lists=ListReader(session_factory, tenant=tenant, exact_total_limit=exact_total_limit),
            schedule_times=schedule_times_loader(next_run_times),
            timeline=TimelineLoaders(timeline) if timeline is not None else None,
        )


__all__ = ["ListReader", "Loaders", "RowLoaders", "TimelineLoaders"]

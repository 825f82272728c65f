"""Per-request readers: batch loaders for rows (every relation of a page of jobs loads in a
constant number of queries, whatever the page size) and the paged lists."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.timeline.sources import TimelineSources

from .lists import ListReader
from .rows import RowLoaders
from .timeline import TimelineLoaders


@dataclass(frozen=True)
class Loaders:
    rows: RowLoaders
    lists: ListReader
    timeline: TimelineLoaders | None = None
    """None when no Temporal is configured."""

    @classmethod
    def for_request(
        cls,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        tenant: str,
        timeline: TimelineSources | None = None,
    ) -> "Loaders":
        return cls(
            rows=RowLoaders(session_factory, tenant=tenant),
            lists=ListReader(session_factory, tenant=tenant),
            timeline=TimelineLoaders(timeline) if timeline is not None else None,
        )


__all__ = ["ListReader", "Loaders", "RowLoaders", "TimelineLoaders"]

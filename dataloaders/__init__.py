"""Per-request readers: batch loaders for rows (every relation of a page of jobs loads in a
constant number of queries, whatever the page size) and the paged lists."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .lists import ListReader
from .rows import RowLoaders


@dataclass(frozen=True)
class Loaders:
    rows: RowLoaders
    lists: ListReader

    @classmethod
    def for_request(
        cls, session_factory: async_sessionmaker[AsyncSession], *, tenant: str
    ) -> "Loaders":
        return cls(
            rows=RowLoaders(session_factory, tenant=tenant),
            lists=ListReader(session_factory, tenant=tenant),
        )


__all__ = ["ListReader", "Loaders", "RowLoaders"]

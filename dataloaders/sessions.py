"""Each read runs in a short session of its own, so loaders never share a request's session."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")


async def read(
    session_factory: async_sessionmaker[AsyncSession],
    query: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    async with session_factory() as session:
        return await query(session)

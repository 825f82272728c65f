"""Each read runs in a short session of its own, so loaders never share a request's session;
with tracing on, each is a span named after the loader method that asked for it."""

from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.observability.tracing import span, tracing_enabled

T = TypeVar("T")


async def read(
    session_factory: async_sessionmaker[AsyncSession],
    query: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    with span(_name(query)) if tracing_enabled() else _UNTRACED:
        async with session_factory() as session:
            return await query(session)


_UNTRACED = nullcontext()


def _name(query: Callable[..., object]) -> str:
    """`load ListReader.job_page` for a lambda defined in that method, `load jobs_by_id` for a
    function or a partial of one."""
    function = getattr(query, "func", query)
    qualified: str = getattr(function, "__qualname__", type(function).__name__)
    return "load " + qualified.replace(".<locals>.<lambda>", "")

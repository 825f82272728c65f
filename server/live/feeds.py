"""What the hub hands to one live stream: a bounded inbox of items, or a coalescing signal."""

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FellBehind(Exception):
    """A stream's inbox overflowed; its client resubscribes with `after` to resume."""


class Signal:
    """Set by the hub when something changed; many changes before the stream looks are one."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        self._event.clear()


class Feed(Generic[T]):
    """Items for one stream, at most `limit` waiting; past that the stream has fallen behind."""

    def __init__(self, limit: int) -> None:
        self._items: deque[T] = deque()
        self._limit = limit
        self._signal = Signal()
        self._overflowed = False

    def put(self, item: T) -> None:
        if len(self._items) >= self._limit:
            self._overflowed = True
            self._items.clear()
        elif not self._overflowed:
            self._items.append(item)
        self._signal.set()

    async def take(self) -> list[T]:
        """Everything waiting, once there is something."""
        while not self._items:
            if self._overflowed:
                raise FellBehind("live updates fell behind: resubscribe with `after` to resume")
            await self._signal.wait()
        items = list(self._items)
        self._items.clear()
        return items

"""A bounded LRU map whose entries may expire: what Temporal said about closed runs is kept
until evicted, what it said about open runs only for a short while."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringLru(Generic[K, V]):
    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, float | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        value, expires_at = found
        if expires_at is not None and expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, *, ttl: float | None) -> None:
        """Keep `value` for `ttl` seconds (None: until it is the least recently used one too
        many)."""
        if self._max_entries <= 0:
            return
        expires_at = None if ttl is None else self._clock() + ttl
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def mark_retrieved(future: "asyncio.Future[Any]") -> None:
    """A done-callback: fetch the exception, so asyncio does not log it as never retrieved
    when every waiter gave up (timed out) before the shared call failed."""
    if not future.cancelled():
        future.exception()

"""Reads shared by every request of the process: a key being read is not read again at once
(single-flight), and what was read is kept (bounded, least recently used evicted first) for as
long as the caller says: for good what can no longer change, a short while the rest."""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from server.observability.metrics import TEMPORAL_CACHE

from .cache import ExpiringLru, mark_retrieved

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedReads(Generic[K, V]):
    def __init__(self, *, name: str, max_entries: int) -> None:
        self._name = name
        """Of the cache in the metrics (`jobmonitor_temporal_cache_lookups_total{cache}`)."""
        self._cache: ExpiringLru[K, V] = ExpiringLru(max_entries)
        self._in_flight: dict[K, asyncio.Task[V]] = {}

    async def get(self, key: K, read: Callable[[], Awaitable[V]], *, ttl: float | None) -> V:
        """What is kept for `key`, else what the read already under way for it answers, else
        what `read()` answers (then kept for `ttl` seconds, None: until evicted)."""
        cached = self._cache.get(key)
        TEMPORAL_CACHE.labels(self._name, "miss" if cached is None else "hit").inc()
        if cached is not None:
            return cached
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.create_task(self._read(key, read, ttl))
            task.add_done_callback(mark_retrieved)
            self._in_flight[key] = task
        # Shielded: a caller that gives up must not cancel what others wait for too.
        return await asyncio.shield(task)

    async def _read(self, key: K, read: Callable[[], Awaitable[V]], ttl: float | None) -> V:
        try:
            value = await read()
            self._cache.put(key, value, ttl=ttl)
            return value
        finally:
            del self._in_flight[key]

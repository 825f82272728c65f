"""A token bucket per key (an API token, a webhook source): a steady rate with room for
short bursts."""

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        *,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[Hashable, _Bucket] = {}

    def retry_after(self, key: Hashable) -> float | None:
        """Takes one request from the key's bucket: None if allowed, else the seconds until
        the next request would be. A rate of 0 allows everything."""
        if self._rate == 0:
            return None
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._drop_full(now)
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self._rate

    def _drop_full(self, now: float) -> None:
        """Forget the buckets that have refilled: a new one would be the same, so keys that
        come and go (client addresses) cost memory only while they are being limited."""
        refill = self._burst / self._rate
        for key, bucket in list(self._buckets.items()):
            if now - bucket.updated >= refill:
                del self._buckets[key]

"""A token bucket that paces calls to Temporal's visibility API.

Visibility is rate-limited per namespace (by default 10 requests/s per frontend) and shared
with every replica, worker and person using the namespace: jobmonitor keeps to a budget of its
own, and callers that must wait for it simply batch more keys into the call they wait for.
"""

import asyncio
import time
from collections.abc import Callable

from server.observability.metrics import TEMPORAL_HELD_BACK


class RateBudget:
    def __init__(
        self, per_second: float, *, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for a token; callers are served in turn."""
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                TEMPORAL_HELD_BACK.labels("budget").inc()
                await asyncio.sleep((1 - self._tokens) / self._per_second)
                self._refill()
            self._tokens -= 1

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._per_second)
        self._updated = now

"""Garbage collection for a server that holds thousands of long-lived websockets.

CPython's full collections walk every object the collector tracks. An API process holds
hundreds of thousands of them once started (the schema, SQLAlchemy, Temporal's SDK) and a
few hundred more per open websocket, so with 10 000 subscribers a full collection stopped
the event loop for seconds, and every subscriber's update waited behind it
(`bench/live_fanout.py --dev`). What a server holds for long is moved out of the
collector's sight with `gc.freeze()`: once started, and again each time the open
connections reach a new high (a quarter above the last). Frozen objects are still freed
when nothing refers to them; only cycles among them wait, so when the connections fall
below half of what was frozen, everything is handed back to the collector.
"""

import gc
import math

FIRST_MARK = 256
"""Below this many open connections, a full collection is short: nothing is frozen for them."""
GROWTH = 1.25
YOUNG_THRESHOLD = 50_000
"""Allocations between young collections (CPython's default: 700)."""


class HeapKeeper:
    def __init__(self) -> None:
        self._frozen_at = 0
        self._mark = FIRST_MARK

    def started(self) -> None:
        """The server is up: what exists now lives as long as the process. Young collections
        come less often, so that what a burst of deliveries allocates (frames waiting for slow
        clients, their send tasks) is mostly gone before one, not promoted towards the full
        collections."""
        gc.collect()
        gc.freeze()
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, older, oldest)

    def opened(self, connections: int) -> None:
        if connections >= self._mark:
            gc.freeze()
            self._frozen_at = connections
            self._mark = math.ceil(connections * GROWTH)

    def closed(self, connections: int) -> None:
        if self._frozen_at and connections < self._frozen_at // 2:
            gc.unfreeze()
            self._frozen_at = 0
            self._mark = max(FIRST_MARK, math.ceil(connections * GROWTH))

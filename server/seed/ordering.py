"""Status events in time order, although they are made job by job in batches.

`job_events.sequence` is the insertion order, and subscribers read it as time order. A
job's events all happen at or after its creation, and jobs are made in order of creation,
so whatever happens before the next batch's first job was created can go out now; later
events wait to be merged with the next batch's.
"""

from bisect import bisect_left
from datetime import datetime
from operator import itemgetter

from .trail import Row

_AT = itemgetter("at")


class EventOrderer:
    def __init__(self) -> None:
        self._held: list[Row] = []

    def release(self, events: list[Row], *, before: datetime | None) -> list[Row]:
        """Take a batch's events; return, sorted, those earlier than `before` (all if None).

        The sort is stable, so events at the same instant keep the order they were made in.
        """
        pending = self._held + events
        pending.sort(key=_AT)
        if before is None:
            self._held = []
            return pending
        cut = bisect_left(pending, before, key=_AT)
        self._held = pending[cut:]
        return pending[:cut]

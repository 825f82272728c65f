"""The dashboard's arithmetic: buckets of time in UTC, failure rates, percentiles."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from .errors import InvalidArgument

MAX_BUCKETS = 400


class StatsBucket(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"

    @property
    def length(self) -> timedelta:
        return _LENGTHS[self]


_LENGTHS = {
    StatsBucket.HOUR: timedelta(hours=1),
    StatsBucket.DAY: timedelta(days=1),
    StatsBucket.WEEK: timedelta(weeks=1),
}
_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)
"""Weeks start on Mondays (ISO 8601); 2024-01-01 was one."""


@dataclass(frozen=True)
class StatsWindow:
    """Jobs created in [start, end), in `count` buckets of `bucket` (the first starts at or
    before `start`, at a whole hour, day or Monday in UTC)."""

    start: datetime
    end: datetime
    bucket: StatsBucket
    first: datetime
    count: int

    @classmethod
    def of(cls, start: datetime, end: datetime, bucket: StatsBucket) -> "StatsWindow":
        """The window; VALIDATION when `to` is not after `from` or it spans over 400 buckets."""
        if end <= start:
            raise InvalidArgument("`to` must be after `from`", field="to")
        first = _floor(start.astimezone(UTC), bucket)
        count = math.ceil((end - first) / bucket.length)
        if count > MAX_BUCKETS:
            raise InvalidArgument(
                f"from {start.isoformat()} to {end.isoformat()} is {count} {bucket.value} "
                f"buckets; at most {MAX_BUCKETS} are served: use a larger bucket or a shorter "
                "interval",
                field="bucket",
            )
        return cls(start=start, end=end, bucket=bucket, first=first, count=count)

    def starts(self) -> list[datetime]:
        return [self.first + index * self.bucket.length for index in range(self.count)]

    def index_of(self, moment: datetime) -> int:
        return (moment - self.first) // self.bucket.length


def _floor(moment: datetime, bucket: StatsBucket) -> datetime:
    if bucket is StatsBucket.WEEK:
        return moment - (moment - _MONDAY) % bucket.length
    if bucket is StatsBucket.DAY:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's `percentile_cont`) of
    values sorted ascending; None when there are none."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def failure_rate(failed: int, finished: int) -> float:
    """failed / finished, 0 when nothing finished."""
    return failed / finished if finished else 0.0

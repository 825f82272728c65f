"""Date-times from clients must say their offset: a naive one has no single meaning."""

from datetime import datetime

from server.domain.errors import InvalidArgument


def with_offset(value: datetime | None, *, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidArgument(
            f"{field} needs a timezone offset, e.g. 2026-01-01T09:00:00Z", field=field
        )
    return value

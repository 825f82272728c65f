"""Date-times from clients must say their offset: a naive one has no single meaning."""

from datetime import datetime

from server.domain.errors import InvalidArgument


def with_offset(value: datetime | None, *, field: str) -> datetime | None:
    return None if value is None else offset_required(value, field=field)


def offset_required(value: datetime, *, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidArgument(
            f"{field} needs a timezone offset, e.g. 2026-01-01T09:00:00Z", field=field
        )
    return value

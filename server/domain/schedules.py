"""What a schedule asks for, checked before anything is created: a five-field cron expression
or an interval of at least ten seconds, and a known IANA timezone."""

import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .enums import EffortLevel, ScheduleOverlap
from .errors import InvalidArgument

MIN_INTERVAL_SECONDS = 10
DEFAULT_TIMEZONE = "UTC"

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, lowest, highest, names for the values from `lowest` on)
_CRON_FIELDS: tuple[tuple[str, int, int, list[str]], ...] = (
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_PART = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>\d+))?$")


@dataclass(frozen=True)
class ScheduleRequest:
    workflow: str
    cron: str | None = None
    interval_seconds: int | None = None
    timezone: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    agent: str | None = None
    effort_level: EffortLevel | None = None
    paused: bool = False
    overlap: ScheduleOverlap = ScheduleOverlap.SKIP

    @property
    def resolved_timezone(self) -> str:
        return self.timezone or DEFAULT_TIMEZONE

    def check_timing(self) -> None:
        """Raises InvalidArgument naming the field that is wrong."""
        if (self.cron is None) == (self.interval_seconds is None):
            raise InvalidArgument("give either cron or intervalSeconds", field="cron")
        if self.cron is not None:
            check_cron(self.cron)
        elif self.interval_seconds is not None and self.interval_seconds < MIN_INTERVAL_SECONDS:
            raise InvalidArgument(
                f"intervalSeconds must be at least {MIN_INTERVAL_SECONDS} "
                f"(got {self.interval_seconds})",
                field="intervalSeconds",
            )
        check_timezone(self.resolved_timezone)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(
            f"unknown timezone {name!r}: use an IANA name such as 'Europe/Paris'",
            field="timezone",
        ) from None


def check_cron(expression: str) -> None:
    """Five fields (minute hour day-of-month month day-of-week), each a `*`, a value, a range
    or a comma list of those, optionally `/step`; months and days may be named (JAN, MON)."""
    fields = expression.split()
    if len(fields) != len(_CRON_FIELDS):
        raise _bad_cron(expression, f"it has {len(fields)} fields, not 5")
    for text, (name, lowest, highest, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            problem = _cron_part_problem(part, lowest, highest, names)
            if problem is not None:
                raise _bad_cron(expression, f"{name} {part!r}: {problem}")


def _cron_part_problem(part: str, lowest: int, highest: int, names: list[str]) -> str | None:
    match = _PART.match(part)
    if match is None:
        return "not a value, range or step"
    if match["step"] is not None and int(match["step"]) == 0:
        return "a step of 0"
    if match["range"] == "*":
        return None
    bounds: list[int] = []
    for text in match["range"].split("-"):
        value = _cron_value(text, lowest, names)
        if value is None or not lowest <= value <= highest:
            return f"outside {lowest}-{highest}"
        bounds.append(value)
    if bounds != sorted(bounds):
        return "a range that runs backwards"
    return None


def _cron_value(text: str, lowest: int, names: list[str]) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    return names.index(upper) + lowest if upper in names else None


def _bad_cron(expression: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"malformed cron expression {expression!r}: {why}", field="cron")

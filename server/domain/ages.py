"""Ages written the way people write them on a command line: `90d`, `12h`, `2w`, `30m`."""

import re
from datetime import timedelta

from .errors import InvalidArgument

_AGE = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """`90d` is 90 days; InvalidArgument for anything else than a whole number and a unit
    (m, h, d, w), or for zero."""
    matched = _AGE.match(text)
    if matched is None or int(matched.group(1)) == 0:
        raise InvalidArgument(
            f"{text!r} is not an age: write a positive whole number and a unit, "
            "e.g. 90d (m: minutes, h: hours, d: days, w: weeks)"
        )
    return timedelta(**{_UNITS[matched.group(2)]: int(matched.group(1))})

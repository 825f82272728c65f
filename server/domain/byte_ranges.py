"""HTTP range requests (RFC 9110 §14): the one range of a `Range: bytes=...` header that a
download serves."""

import re
from dataclasses import dataclass

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


class Unsatisfiable(ValueError):
    """The range starts at or past the end (answered 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Exclusive."""

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The range asked for, or None for the whole content (no header, several ranges, or a
    header that is not a byte range: a server may ignore those). Unsatisfiable when it starts
    past the end or asks for a suffix of nothing."""
    if header is None:
        return None
    matched = _SINGLE.match(header)
    if matched is None:
        return None
    first, last = matched.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - suffix, 0), size)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored, the whole content is served
    if start >= size:
        raise Unsatisfiable(header)
    end = min(int(last) + 1, size) if last else size
    return ByteRange(start, end)

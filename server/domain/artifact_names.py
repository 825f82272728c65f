"""What an artifact is called and what it holds: names that cannot reach outside their job,
and a content type from the bytes and the name."""

import mimetypes
import unicodedata

import puremagic

from .errors import InvalidArgument

MAX_NAME_CHARS = 255
SNIFF_BYTES = 2048
BINARY = "application/octet-stream"


def safe_name(name: str) -> str:
    """The name to keep: a relative path of plain components. `..`, `.`, empty components, a
    leading `/` or drive and control characters (NUL included) go, backslashes count as
    slashes; nothing left is refused. The name is only shown and offered as a filename: the
    stores key artifacts by id, never by name."""
    printable = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    parts = [
        part.strip()
        for part in printable.replace("\\", "/").split("/")
        if part.strip() not in ("", ".", "..")
    ]
    if parts and parts[0].endswith(":"):
        parts = parts[1:]
    kept = "/".join(parts)[-MAX_NAME_CHARS:].lstrip("/")
    if not kept:
        raise InvalidArgument(f"{name!r} is no usable artifact name", field="name")
    return kept


def content_type(name: str, head: bytes) -> str:
    """By the content's magic bytes first (a `.txt` that is a PNG is a PNG), then by the name,
    then text if the first bytes decode as UTF-8, else binary."""
    if head:
        try:
            return str(puremagic.from_string(head, mime=True)) or _by_name(name, head)
        except puremagic.PureError:
            pass
    return _by_name(name, head)


def _by_name(name: str, head: bytes) -> str:
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return BINARY
    return "text/plain"

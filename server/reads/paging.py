"""Relay paging arguments, checked once and turned into a keyset request."""

from dataclasses import dataclass

from server.domain.errors import InvalidArgument


@dataclass(frozen=True)
class PageRequest:
    limit: int
    cursor: str | None
    backward: bool

    @property
    def cursor_argument(self) -> str:
        return "before" if self.backward else "after"


def page_request(
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    default_size: int,
    max_size: int,
) -> PageRequest:
    """Forward paging (`first`/`after`) or backward paging (`last`/`before`), never both."""
    if last is None and before is None:
        size = default_size if first is None else first
        _check_size("first", size, max_size)
        return PageRequest(limit=size, cursor=after, backward=False)
    if first is not None or after is not None:
        raise InvalidArgument(
            "page forward with `first`/`after` or backward with `last`/`before`, not both"
        )
    size = default_size if last is None else last
    _check_size("last", size, max_size)
    return PageRequest(limit=size, cursor=before, backward=True)


def _check_size(argument: str, size: int, max_size: int) -> None:
    if not 0 <= size <= max_size:
        raise InvalidArgument(
            f"`{argument}` must be between 0 and {max_size} (got {size}); "
            "page through larger lists with the cursors",
            field=argument,
        )

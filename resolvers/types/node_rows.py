"""Rows behind Relay node ids: the `node` field's lookups, by loader."""

from collections.abc import Callable, Iterable
from typing import TypeVar

from strawberry.dataloader import DataLoader

from resolvers.ids import storable
from server.domain.errors import InvalidArgument

RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")


async def rows_by_node_id(
    loader: DataLoader[int, RowT | None], node_ids: Iterable[str], kind: str
) -> list[RowT | None]:
    """The rows, None for ids that name none (numbers no row can have among them)."""
    keys = [_node_key(node_id, kind) for node_id in node_ids]
    found = iter(await loader.load_many([key for key in keys if key is not None]))
    return [next(found) if key is not None else None for key in keys]


async def nodes_by_id(
    loader: DataLoader[int, RowT | None],
    node_ids: Iterable[str],
    kind: str,
    build: Callable[[RowT], NodeT],
) -> list[NodeT | None]:
    """The nodes built from their rows, None for ids that name none."""
    rows = await rows_by_node_id(loader, node_ids, kind)
    return [build(row) if row is not None else None for row in rows]


def _node_key(node_id: str, kind: str) -> int | None:
    try:
        number = int(node_id)
    except ValueError:
        raise InvalidArgument(f"{node_id!r} is not {kind} id", field="id") from None
    return number if storable(number) else None

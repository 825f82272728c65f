"""A server keeps what it holds for long (its start-up objects, open websockets) out of the
garbage collector's full collections, and hands it back when connections drop by half."""

import gc
import math
from collections.abc import Iterator

import pytest

from server.web.heap import FIRST_MARK, GROWTH, YOUNG_THRESHOLD, HeapKeeper


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_a_started_server_freezes_its_objects_and_collects_young_ones_less_often() -> None:
    HeapKeeper().started()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD


def test_connections_are_frozen_at_each_new_high_and_released_when_half_are_gone() -> None:
    heap = HeapKeeper()
    heap.opened(FIRST_MARK - 1)
    assert gc.get_freeze_count() == 0

    heap.opened(FIRST_MARK)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    heap.opened(FIRST_MARK + 1)  # not a new high: nothing frozen
    assert gc.get_freeze_count() == 0
    high = math.ceil(FIRST_MARK * GROWTH)
    heap.opened(high)
    assert gc.get_freeze_count() > 0

    heap.closed(high // 2)  # half are still open: kept
    assert gc.get_freeze_count() > 0
    heap.closed(high // 2 - 1)
    assert gc.get_freeze_count() == 0

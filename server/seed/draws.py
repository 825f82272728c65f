"""Drawing from fixed choices with one uniform number in [0, 1) per choice."""

from bisect import bisect
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")

Random = Callable[[], float]
"""A source of uniform numbers in [0, 1): `random.Random(seed).random`."""


def one_of(random: Random, values: Sequence[T]) -> T:
    return values[int(random() * len(values))]


class Weighted(Generic[T]):
    def __init__(self, weighted: Sequence[tuple[T, float]]) -> None:
        self._values = [value for value, _ in weighted]
        totals = list(accumulate(weight for _, weight in weighted))
        self._bounds = [total / totals[-1] for total in totals]

    def pick(self, uniform: float) -> T:
        """The value whose share of [0, 1) holds `uniform`."""
        return self._values[min(bisect(self._bounds, uniform), len(self._values) - 1)]

"""The event bus. In one process, subscribers are callbacks on the same event loop."""

from collections.abc import Callable, Sequence
from typing import Protocol

from .notices import Notice

Listener = Callable[[Sequence[Notice]], None]


class EventBus(Protocol):
    async def publish(self, notices: Sequence[Notice]) -> None: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every batch of notices; returns the function that unsubscribes."""
        ...


class InProcessBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    async def publish(self, notices: Sequence[Notice]) -> None:
        if notices:
            for listener in list(self._listeners):
                listener(notices)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

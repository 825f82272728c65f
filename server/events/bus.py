"""The event bus. In one process, subscribers are callbacks on the same event loop."""

from collections.abc import Callable, Sequence
from typing import Protocol

from .notices import Delivery, Notice

Listener = Callable[[Sequence[Delivery]], None]


class EventBus(Protocol):
    async def publish(self, notices: Sequence[Notice]) -> None:
        """Hand committed changes to every subscriber (of every process, where the bus spans
        several); called after commit, never before."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every batch of notices; returns the function that unsubscribes."""
        ...

    async def start(self) -> None:
        """Begin receiving notices published by other processes (idempotent)."""
        ...

    @property
    def listening(self) -> bool:
        """Whether notices of other processes reach this one right now (readiness)."""
        ...

    async def close(self) -> None: ...


class InProcessBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    async def publish(self, notices: Sequence[Notice]) -> None:
        self.deliver(notices)

    def deliver(self, notices: Sequence[Delivery]) -> None:
        if notices:
            for listener in list(self._listeners):
                listener(notices)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def start(self) -> None:
        return None

    @property
    def listening(self) -> bool:
        return True

    async def close(self) -> None:
        return None

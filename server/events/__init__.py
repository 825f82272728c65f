"""Change notices and the bus that carries them to subscribers, after commit."""

from .bus import EventBus, InProcessBus
from .notices import (
    Delivery,
    JobChanged,
    JobDeleted,
    LogAppended,
    Notice,
    Resync,
    TokenRevoked,
)

__all__ = [
    "Delivery",
    "EventBus",
    "InProcessBus",
    "JobChanged",
    "JobDeleted",
    "LogAppended",
    "Notice",
    "Resync",
    "TokenRevoked",
]

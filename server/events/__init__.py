"""Change notices and the bus that carries them to subscribers, after commit."""

from .bus import EventBus, InProcessBus
from .notices import JobChanged, LogAppended, Notice

__all__ = ["EventBus", "InProcessBus", "JobChanged", "LogAppended", "Notice"]

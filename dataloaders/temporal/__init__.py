"""Reading job timelines from Temporal: sources shared by the process (owned by the Runtime)
and loaders of one request over them."""

from .gateway import Described, HistoryGone, TemporalUnreachable
from .loaders import TimelineLoaders
from .sources import TimelineSources
from .summaries import NOT_FOUND, Lookup, NotFound

__all__ = [
    "NOT_FOUND",
    "Described",
    "HistoryGone",
    "Lookup",
    "NotFound",
    "TemporalUnreachable",
    "TimelineLoaders",
    "TimelineSources",
]

"""What the process keeps for timelines across requests: one gateway to Temporal, the shared
summary and history sources with their caches. Built once, by the Runtime."""

from dataclasses import dataclass

from server.settings import Settings

from .budget import RateBudget
from .describes import DescribeSource
from .gateway import TemporalGateway
from .histories import HistorySource
from .summaries import SummarySource
from .watches import TimelineWatches

# Visibility calls allowed back to back before the budget's rate applies.
VISIBILITY_BURST = 2
# How long a live timeline waits for a run to close after its job has ended: Teardown has
# recorded the end and returns at once; a run still open after this is shown as it is.
CLOSE_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class TimelineSources:
    gateway: TemporalGateway
    summaries: SummarySource
    describes: DescribeSource
    histories: HistorySource
    watches: TimelineWatches

    @classmethod
    def from_settings(cls, settings: Settings) -> "TimelineSources | None":
        """None when no Temporal is configured."""
        if settings.temporal_address is None:
            return None
        return cls.over(TemporalGateway(settings), settings)

    @classmethod
    def over(cls, gateway: TemporalGateway, settings: Settings) -> "TimelineSources":
        """Sources with empty caches over an existing gateway (and its connection)."""
        describes = DescribeSource(
            gateway,
            open_ttl=settings.timeline_open_ttl,
            max_entries=settings.timeline_history_cache_size,
        )
        histories = HistorySource(
            gateway,
            describes,
            concurrency=settings.temporal_history_concurrency,
            timeout=settings.temporal_lookup_timeout,
            open_ttl=settings.timeline_open_ttl,
            max_entries=settings.timeline_history_cache_size,
        )
        return cls(
            gateway=gateway,
            summaries=SummarySource(
                gateway,
                RateBudget(settings.temporal_visibility_rate, burst=VISIBILITY_BURST),
                window=settings.temporal_batch_window,
                open_ttl=settings.timeline_open_ttl,
                max_entries=settings.timeline_cache_size,
            ),
            describes=describes,
            histories=histories,
            watches=TimelineWatches(gateway, histories, close_wait=CLOSE_WAIT_SECONDS),
        )

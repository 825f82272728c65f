"""What one job's timeline reads from Temporal, through the request's loaders, and why there is
nothing to show when it cannot. Every read the loaders make is bounded by the lookup timeout,
so a timeline answers in about that time whatever Temporal does, and the rest of the job (and
of the page) never waits longer for it."""

from dataclasses import dataclass
from typing import Protocol

from dataloaders.timeline import TimelineLoaders
from server.timeline.gateway import HistoryGone, TemporalUnreachable
from server.timeline.phases import Phase
from server.timeline.reasons import NO_HISTORY, NOT_CONFIGURED, UNREACHABLE
from server.timeline.runs import RunSummary


class PhaseSource(Protocol):
    async def phases(self, run: RunSummary) -> list[Phase] | str:
        """The phases of `run`, or why there are none to show."""
        ...


@dataclass(frozen=True)
class KnownPhases:
    """Phases already read (by a live timeline's lookup)."""

    found: list[Phase]

    async def phases(self, run: RunSummary) -> list[Phase] | str:
        return self.found


class TimelineLookup:
    """One job's reads; the loaders share them with the other jobs of the request."""

    def __init__(self, loaders: TimelineLoaders | None, workflow_id: str) -> None:
        self._loaders = loaders
        self._workflow_id = workflow_id

    async def summary(self) -> RunSummary | str:
        """The run, or why there is none to show."""
        if self._loaders is None:
            return NOT_CONFIGURED
        try:
            found = await self._loaders.summary.load(self._workflow_id)
        except TemporalUnreachable:
            return UNREACHABLE
        return found if isinstance(found, RunSummary) else NO_HISTORY

    async def counted(self, run: RunSummary) -> RunSummary:
        """The run `summary` found, with its history counted: as DescribeWorkflowExecution
        describes it when visibility has not counted it (it is open), else as it is (also when
        it cannot be described)."""
        if run.counted or self._loaders is None:
            return run
        try:
            return (await self._loaders.described.load(run)).run
        except (TemporalUnreachable, HistoryGone):
            return run

    async def phases(self, run: RunSummary) -> list[Phase] | str:
        """The phases of the run `summary` found, or why there are none to show."""
        if self._loaders is None:
            return NOT_CONFIGURED
        try:
            return await self._loaders.phases.load(run)
        except TemporalUnreachable:
            return UNREACHABLE
        except HistoryGone:
            return NO_HISTORY

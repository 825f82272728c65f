"""The timeline loaders of one request: all jobs of a page share one summary lookup, and each
run is described, and its history read, once per request whatever asks for it."""

import asyncio

from strawberry.dataloader import DataLoader

from server.observability.tracing import span
from server.timeline.gateway import Described
from server.timeline.phases import Phase
from server.timeline.runs import RunSummary
from server.timeline.sources import TimelineSources
from server.timeline.summaries import Lookup


class TimelineLoaders:
    def __init__(self, sources: TimelineSources) -> None:
        self._sources = sources
        self.summary: DataLoader[str, Lookup] = DataLoader(self._summaries)
        self.described: DataLoader[RunSummary, Described] = DataLoader(self._described)
        self.phases: DataLoader[RunSummary, list[Phase]] = DataLoader(self._phases)

    async def _summaries(self, workflow_ids: list[str]) -> list[Lookup | BaseException]:
        with span("load timeline.summaries", {"jobmonitor.keys": len(workflow_ids)}):
            found = await self._sources.summaries.lookup(workflow_ids)
        return [found[workflow_id] for workflow_id in workflow_ids]

    async def _described(self, runs: list[RunSummary]) -> list[Described | BaseException]:
        return await asyncio.gather(
            *(self._sources.describes.describe(run) for run in runs), return_exceptions=True
        )

    async def _phases(self, runs: list[RunSummary]) -> list[list[Phase] | BaseException]:
        with span("load timeline.phases", {"jobmonitor.keys": len(runs)}):
            return await asyncio.gather(
                *(self._sources.histories.phases(run) for run in runs), return_exceptions=True
            )

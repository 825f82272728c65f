"""Lists, totals and counts of one request, read through short sessions of their own."""

import asyncio
from collections.abc import Sequence
from functools import partial
from itertools import groupby
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from server.db.models import Agent, LogLine, Schedule, Workflow
from server.domain.enums import JobOrder, JobStatus, LogStream
from server.domain.filters import JobFilter
from server.domain.stats import StatsWindow
from server.reads import automations, fleet, jobs, rows, schedules, stats
from server.reads.automations import AutomationRow
from server.reads.paging import PageRequest

from .sessions import read


class LogPage(NamedTuple):
    job_number: int
    after: int | None
    limit: int
    streams: tuple[LogStream, ...]
    step: int | None


class ListReader:
    """Paged lists of one tenant. Totals are remembered per filter for the request."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        tenant: str,
        exact_total_limit: int,
    ) -> None:
        self._session_factory = session_factory
        self._tenant = tenant
        self._exact_total_limit = exact_total_limit
        self._totals: dict[JobFilter, jobs.Total] = {}
        self._logs: DataLoader[LogPage, list[LogLine]] = DataLoader(self._log_pages)

    async def job_page(
        self, job_filter: JobFilter, *, order: JobOrder, page: PageRequest
    ) -> jobs.JobPage:
        return await read(
            self._session_factory,
            lambda s: jobs.list_jobs(
                s, tenant=self._tenant, job_filter=job_filter, order=order, page=page
            ),
        )

    async def job_total(self, job_filter: JobFilter) -> jobs.Total:
        if job_filter not in self._totals:
            self._totals[job_filter] = await read(
                self._session_factory,
                lambda s: jobs.count_jobs(
                    s,
                    tenant=self._tenant,
                    job_filter=job_filter,
                    exact_up_to=self._exact_total_limit,
                ),
            )
        return self._totals[job_filter]

    async def job_counts(self, job_filter: JobFilter) -> dict[JobStatus, int]:
        return await read(
            self._session_factory,
            lambda s: jobs.count_by_status(s, tenant=self._tenant, job_filter=job_filter),
        )

    async def job_stats(self, job_filter: JobFilter, window: StatsWindow) -> stats.StatsFigures:
        """The counts and the percentiles, read at once on two connections."""
        groups, durations = await asyncio.gather(
            read(
                self._session_factory,
                lambda s: stats.grouped_counts(
                    s, tenant=self._tenant, job_filter=job_filter, window=window
                ),
            ),
            read(
                self._session_factory,
                lambda s: stats.duration_percentiles(
                    s, tenant=self._tenant, job_filter=job_filter, window=window
                ),
            ),
        )
        return stats.combined(window, groups, durations)

    async def filter_options(self) -> tuple[list[Workflow], list[Agent]]:
        return await read(
            self._session_factory, lambda s: jobs.filter_options(s, tenant=self._tenant)
        )

    async def agents(self, *, after_id: int | None, limit: int) -> list[Agent]:
        return await read(
            self._session_factory,
            lambda s: fleet.list_agents(s, tenant=self._tenant, after_id=after_id, limit=limit),
        )

    async def agent_total(self) -> int:
        return await read(
            self._session_factory, lambda s: fleet.count_agents(s, tenant=self._tenant)
        )

    async def workflows(self, *, after_id: int | None, limit: int) -> list[Workflow]:
        return await read(
            self._session_factory,
            lambda s: fleet.list_workflows(s, tenant=self._tenant, after_id=after_id, limit=limit),
        )

    async def automations(self) -> list[AutomationRow]:
        return await read(
            self._session_factory,
            lambda s: automations.list_automations(s, tenant=self._tenant),
        )

    async def workflow_total(self) -> int:
        return await read(
            self._session_factory, lambda s: fleet.count_workflows(s, tenant=self._tenant)
        )

    async def log_lines(
        self,
        job_number: int,
        *,
        after: int | None,
        limit: int,
        streams: Sequence[LogStream],
        step: int | None = None,
    ) -> list[LogLine]:
        """One job's page of log lines; the pages the same request asks of many jobs (with
        the same `after`, `limit` and `streams`) are read in one statement."""
        return await self._logs.load(LogPage(job_number, after, limit, tuple(streams), step))

    async def _log_pages(self, pages: list[LogPage]) -> list[list[LogLine]]:
        found: dict[LogPage, list[LogLine]] = {}
        for _, alike in groupby(sorted(pages, key=_shape), key=_shape):
            group = list(alike)
            shape = group[0]
            lines = await read(
                self._session_factory,
                partial(
                    rows.log_pages,
                    job_numbers=[page.job_number for page in group],
                    after=shape.after,
                    limit=shape.limit,
                    streams=shape.streams,
                    step=shape.step,
                ),
            )
            for page in group:
                found[page] = lines.get(page.job_number, [])
        return [found[page] for page in pages]

    async def schedules(
        self, *, workflows: Sequence[str], after_id: int | None, limit: int
    ) -> list[Schedule]:
        return await read(
            self._session_factory,
            lambda s: schedules.list_schedules(
                s, tenant=self._tenant, workflows=workflows, after_id=after_id, limit=limit
            ),
        )

    async def schedule_total(self, *, workflows: Sequence[str]) -> int:
        return await read(
            self._session_factory,
            lambda s: schedules.count_schedules(s, tenant=self._tenant, workflows=workflows),
        )


def _shape(page: LogPage) -> tuple[bool, int, int, tuple[LogStream, ...], bool, int]:
    """What pages read together share, in a sortable form."""
    step = page.step
    return (
        page.after is not None,
        page.after or 0,
        page.limit,
        page.streams,
        step is None,
        step or 0,
    )

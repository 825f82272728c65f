"""Lists, totals and counts of one request, read through short sessions of their own."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, LogLine, Schedule, Workflow
from server.domain.enums import JobOrder, JobStatus, LogStream
from server.domain.filters import JobFilter
from server.reads import automations, fleet, jobs, rows, schedules
from server.reads.automations import AutomationRow
from server.reads.paging import PageRequest

from .sessions import read


class ListReader:
    """Paged lists of one tenant. Totals are remembered per filter for the request."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, tenant: str) -> None:
        self._session_factory = session_factory
        self._tenant = tenant
        self._totals: dict[JobFilter, int] = {}

    async def job_page(
        self, job_filter: JobFilter, *, order: JobOrder, page: PageRequest
    ) -> jobs.JobPage:
        return await read(
            self._session_factory,
            lambda s: jobs.list_jobs(
                s, tenant=self._tenant, job_filter=job_filter, order=order, page=page
            ),
        )

    async def job_total(self, job_filter: JobFilter) -> int:
        if job_filter not in self._totals:
            self._totals[job_filter] = await read(
                self._session_factory,
                lambda s: jobs.count_jobs(s, tenant=self._tenant, job_filter=job_filter),
            )
        return self._totals[job_filter]

    async def job_counts(self, job_filter: JobFilter) -> dict[JobStatus, int]:
        return await read(
            self._session_factory,
            lambda s: jobs.count_by_status(s, tenant=self._tenant, job_filter=job_filter),
        )

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
        return await read(
            self._session_factory,
            lambda s: rows.log_lines(
                s, job_number=job_number, after=after, limit=limit, streams=streams, step=step
            ),
        )

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

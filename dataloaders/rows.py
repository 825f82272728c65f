"""Loaders for database rows. Each batch opens its own short session from the factory."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from server.db.models import (
    Agent,
    Artifact,
    Job,
    JobEvent,
    JobNotification,
    JobStep,
    Schedule,
    StepAttempt,
    Workflow,
)
from server.domain.queue import Standing
from server.reads import artifacts, automations, queue, rows, schedules
from server.reads.automations import AutomationRow

from .sessions import read


class RowLoaders:
    """The loaders of one request, all scoped to the request's tenant."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, tenant: str) -> None:
        self._session_factory = session_factory
        self._tenant = tenant
        self.workflow: DataLoader[int, Workflow | None] = DataLoader(self._workflows)
        self.agent: DataLoader[int, Agent | None] = DataLoader(self._agents)
        self.job: DataLoader[int, Job | None] = DataLoader(self._jobs)
        self.steps: DataLoader[int, list[JobStep]] = DataLoader(self._steps)
        self.events: DataLoader[int, list[JobEvent]] = DataLoader(self._events)
        self.automation: DataLoader[int, AutomationRow | None] = DataLoader(self._automations)
        self.notifications: DataLoader[int, list[JobNotification]] = DataLoader(self._notifications)
        self.attempts: DataLoader[int, list[StepAttempt]] = DataLoader(self._attempts)
        self.queue: DataLoader[int, Standing | None] = DataLoader(self._queue)
        self.running_jobs: DataLoader[int, int] = DataLoader(self._running_jobs)
        self.reruns: DataLoader[int, list[Job]] = DataLoader(self._reruns)
        self.follow_ups: DataLoader[int, list[Job]] = DataLoader(self._follow_ups)
        self.schedule: DataLoader[int, Schedule | None] = DataLoader(self._schedules)
        self.schedule_jobs: DataLoader[tuple[int, int], list[Job]] = DataLoader(self._schedule_jobs)
        self.artifacts: DataLoader[int, list[Artifact]] = DataLoader(self._artifacts)
        self.artifact: DataLoader[int, Artifact | None] = DataLoader(self._artifact)

    async def _artifacts(self, numbers: list[int]) -> list[list[Artifact]]:
        found = await read(
            self._session_factory,
            lambda s: artifacts.artifacts_by_job(s, tenant=self._tenant, numbers=numbers),
        )
        return [found.get(key, []) for key in numbers]

    async def _artifact(self, ids: list[int]) -> list[Artifact | None]:
        found = await read(
            self._session_factory,
            lambda s: artifacts.artifacts_by_id(s, tenant=self._tenant, ids=ids),
        )
        return [found.get(key) for key in ids]

    async def _workflows(self, ids: list[int]) -> list[Workflow | None]:
        found = await read(
            self._session_factory, lambda s: rows.workflows_by_id(s, tenant=self._tenant, ids=ids)
        )
        return [found.get(key) for key in ids]

    async def _agents(self, ids: list[int]) -> list[Agent | None]:
        found = await read(
            self._session_factory, lambda s: rows.agents_by_id(s, tenant=self._tenant, ids=ids)
        )
        return [found.get(key) for key in ids]

    async def _jobs(self, numbers: list[int]) -> list[Job | None]:
        found = await read(
            self._session_factory,
            lambda s: rows.jobs_by_number(s, tenant=self._tenant, numbers=numbers),
        )
        return [found.get(key) for key in numbers]

    async def _steps(self, numbers: list[int]) -> list[list[JobStep]]:
        found = await read(self._session_factory, lambda s: rows.steps_by_job(s, numbers))
        return [found.get(key, []) for key in numbers]

    async def _events(self, numbers: list[int]) -> list[list[JobEvent]]:
        found = await read(self._session_factory, lambda s: rows.events_by_job(s, numbers))
        return [found.get(key, []) for key in numbers]

    async def _automations(self, ids: list[int]) -> list[AutomationRow | None]:
        found = await read(
            self._session_factory,
            lambda s: automations.automations_by_id(s, tenant=self._tenant, ids=ids),
        )
        return [found.get(key) for key in ids]

    async def _notifications(self, numbers: list[int]) -> list[list[JobNotification]]:
        found = await read(self._session_factory, lambda s: rows.notifications_by_job(s, numbers))
        return [found.get(key, []) for key in numbers]

    async def _attempts(self, numbers: list[int]) -> list[list[StepAttempt]]:
        found = await read(self._session_factory, lambda s: rows.attempts_by_job(s, numbers))
        return [found.get(key, []) for key in numbers]

    async def _queue(self, numbers: list[int]) -> list[Standing | None]:
        found = await read(
            self._session_factory,
            lambda s: queue.queue_standings(
                s, tenant=self._tenant, numbers=numbers, now=datetime.now(UTC)
            ),
        )
        return [found.get(key) for key in numbers]

    async def _running_jobs(self, agent_ids: list[int]) -> list[int]:
        found = await read(self._session_factory, lambda s: queue.running_jobs(s, agent_ids))
        return [found.get(key, 0) for key in agent_ids]

    async def _reruns(self, numbers: list[int]) -> list[list[Job]]:
        found = await read(
            self._session_factory,
            lambda s: rows.reruns_of(s, tenant=self._tenant, numbers=numbers),
        )
        return [found.get(key, []) for key in numbers]

    async def _follow_ups(self, numbers: list[int]) -> list[list[Job]]:
        found = await read(
            self._session_factory,
            lambda s: rows.follow_ups_of(s, tenant=self._tenant, numbers=numbers),
        )
        return [found.get(key, []) for key in numbers]

    async def _schedules(self, ids: list[int]) -> list[Schedule | None]:
        found = await read(
            self._session_factory,
            lambda s: schedules.schedules_by_id(s, tenant=self._tenant, ids=ids),
        )
        return [found.get(key) for key in ids]

    async def _schedule_jobs(self, keys: list[tuple[int, int]]) -> list[list[Job]]:
        """Keys are (schedule id, how many): the newest jobs of each, one query per size."""
        found: dict[tuple[int, int], list[Job]] = {}
        for limit in {limit for _id, limit in keys}:
            ids = [schedule_id for schedule_id, wanted in keys if wanted == limit]
            jobs = await self._recent_jobs(ids, limit)
            found.update({(schedule_id, limit): jobs.get(schedule_id, []) for schedule_id in ids})
        return [found[key] for key in keys]

    async def _recent_jobs(self, ids: list[int], limit: int) -> dict[int, list[Job]]:
        return await read(
            self._session_factory,
            lambda s: schedules.recent_jobs(s, tenant=self._tenant, schedule_ids=ids, limit=limit),
        )

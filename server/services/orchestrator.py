"""What the job and schedule services need from the orchestrator (Temporal), as protocols.

The services stay free of Temporal's client; `server.temporal.orchestrator` implements this.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NoReturn, Protocol

from server.domain.enums import ScheduleOverlap
from server.domain.errors import OrchestratorUnavailable


class JobSignal(StrEnum):
    """The signals the job workflow understands (the values are the Temporal signal names)."""

    PAUSE = "pause"
    RESUME = "resume"
    APPROVE = "approve"
    REJECT = "reject"


class WorkflowGone(Exception):
    """The orchestrator has no running workflow for the job (never started, ended, or lost)."""


class Orchestrator(Protocol):
    async def start_job(self, *, tenant: str, number: int, start_at: datetime | None) -> str:
        """Start the job's workflow (a repeat is a no-op); returns the workflow id.

        Raises OrchestratorUnavailable.
        """
        ...

    async def signal_job(
        self, workflow_id: str, signal: JobSignal, *, actor: str | None, message: str | None
    ) -> None:
        """Raises WorkflowGone or OrchestratorUnavailable."""
        ...

    async def cancel_job(self, workflow_id: str, *, actor: str | None, reason: str) -> None:
        """Raises WorkflowGone or OrchestratorUnavailable."""
        ...


class NoOrchestrator:
    """No Temporal configured: reads and database-only actions work, starts wait in the outbox."""

    async def start_job(self, *, tenant: str, number: int, start_at: datetime | None) -> str:
        raise OrchestratorUnavailable("no Temporal address is configured")

    async def signal_job(
        self, workflow_id: str, signal: JobSignal, *, actor: str | None, message: str | None
    ) -> None:
        raise OrchestratorUnavailable("no Temporal address is configured")

    async def cancel_job(self, workflow_id: str, *, actor: str | None, reason: str) -> None:
        raise OrchestratorUnavailable("no Temporal address is configured")


@dataclass(frozen=True)
class ScheduleTiming:
    """What the orchestrator keeps of a schedule: when it runs and how runs may overlap."""

    key: str
    tenant: str
    cron: str | None
    interval_seconds: int | None
    timezone: str
    overlap: ScheduleOverlap
    paused: bool


class Scheduler(Protocol):
    """Recurring runs, kept by the orchestrator. Each run makes a job through the schedule's
    row (`ScheduleService.start_run`). Every method raises OrchestratorUnavailable."""

    async def create_schedule(self, timing: ScheduleTiming) -> None: ...

    async def pause_schedule(self, key: str, *, note: str | None) -> None:
        """Raises WorkflowGone when the orchestrator has no such schedule."""
        ...

    async def resume_schedule(self, key: str) -> None:
        """Raises WorkflowGone when the orchestrator has no such schedule."""
        ...

    async def delete_schedule(self, key: str) -> None:
        """Deleting a schedule the orchestrator does not have is not an error."""
        ...

    async def trigger_schedule(self, key: str) -> None:
        """One run now, whatever runs already. Raises WorkflowGone."""
        ...

    async def next_run_times(self, key: str, *, count: int) -> list[datetime]:
        """Raises WorkflowGone."""
        ...

    async def schedule_keys(self, *, tenant: str) -> set[str]:
        """The keys of the tenant's schedules the orchestrator holds."""
        ...

    async def has_schedule(self, key: str) -> bool: ...


class NoScheduler:
    """No Temporal configured: schedules cannot be made or changed."""

    async def _unavailable(self) -> NoReturn:
        raise OrchestratorUnavailable("no Temporal address is configured")

    async def create_schedule(self, timing: ScheduleTiming) -> None:
        await self._unavailable()

    async def pause_schedule(self, key: str, *, note: str | None) -> None:
        await self._unavailable()

    async def resume_schedule(self, key: str) -> None:
        await self._unavailable()

    async def delete_schedule(self, key: str) -> None:
        await self._unavailable()

    async def trigger_schedule(self, key: str) -> None:
        await self._unavailable()

    async def next_run_times(self, key: str, *, count: int) -> list[datetime]:
        await self._unavailable()

    async def schedule_keys(self, *, tenant: str) -> set[str]:
        await self._unavailable()

    async def has_schedule(self, key: str) -> bool:
        await self._unavailable()

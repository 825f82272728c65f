"""What the job service needs from the orchestrator (Temporal), as a protocol.

The services stay free of Temporal's client; `server.temporal.orchestrator` implements this.
"""

from datetime import datetime
from enum import StrEnum
from typing import Protocol

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

"""An idempotency key names one request: repeating it returns the same job, while the same
key with a different request is refused (answering with the old job would hide the mistake)."""

from datetime import datetime
from typing import Any

from server.db.models import Job
from server.domain.dispatch import DispatchRequest
from server.domain.errors import InvalidArgument


def check_same_request(
    job: Job, request: DispatchRequest, *, workflow_id: int, agent_id: int | None
) -> None:
    """Raise a VALIDATION error naming the key when `request` asks for something other than
    the dispatch that made `job` (`agent_id` is the agent the request names, if any)."""
    asked: dict[str, tuple[Any, Any]] = {
        "workflow": (workflow_id, job.workflow_id),
        "input": (request.job_input, job.input),
        "hint": (request.hint, job.hint),
        "ticketUrl": (request.ticket_url, job.ticket_url),
        "ticketKey": (request.resolved_ticket_key, job.ticket_key),
        "scheduledFor": (_scheduled(request.scheduled_for, job), job.scheduled_for),
        "source": (request.source, job.source),
    }
    if agent_id is not None:
        asked["agent"] = (agent_id, job.agent_id)
    if request.effort_level is not None:
        # Without a level the workflow's default applied: any stored level matches.
        asked["effortLevel"] = (request.effort_level, job.effort_level)
    differing = [name for name, (wanted, stored) in asked.items() if wanted != stored]
    if differing:
        raise InvalidArgument(
            f"idempotency key {request.idempotency_key!r} was already used for job "
            f"#{job.number} with a different {', '.join(differing)}",
            field="idempotencyKey",
        )


def _scheduled(scheduled_for: datetime | None, job: Job) -> datetime | None:
    """A time that had passed when the job was made was not kept (the job started at once)."""
    if scheduled_for is not None and scheduled_for <= job.created_at:
        return None
    return scheduled_for

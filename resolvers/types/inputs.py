"""Mutation inputs."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.ids import job_number
from server.domain.dispatch import DispatchRequest, trigger_input
from server.domain.errors import InvalidArgument

from .datetimes import with_offset
from .enums import DispatchSource, EffortLevel


@strawberry.input
class JobTriggerInput:
    ticket_url: str | None = None
    project: str | None = None
    assignee: str | None = None
    status: str | None = None
    issue_key: str | None = None
    issue_type: str | None = None

    def to_input(self) -> dict[str, str]:
        values = {name: getattr(self, name) for name in _TRIGGER_FIELDS}
        return trigger_input(values, field_of=_TRIGGER_FIELDS)


# Each trigger value and its field in errors.
_TRIGGER_FIELDS = {
    "ticket_url": "trigger/ticketUrl",
    "project": "trigger/project",
    "assignee": "trigger/assignee",
    "status": "trigger/status",
    "issue_key": "trigger/issueKey",
    "issue_type": "trigger/issueType",
}


def json_object(value: object) -> dict[str, Any] | None:
    """An `input` argument: a JSON object, or None when not given."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgument("input must be a JSON object", field="input")
    return value


@strawberry.input
class DispatchJobInput:
    workflow: str = strawberry.field(description="Workflow slug (or alias).")
    agent: str | None = strawberry.field(
        default=None, description="Agent name; omitted lets the system pick an online agent."
    )
    ticket_url: str | None = None
    ticket_key: str | None = None
    hint: str | None = None
    effort_level: EffortLevel | None = None
    input: JSON | None = None
    scheduled_for: datetime | None = strawberry.field(
        default=None, description="Start later instead of now (status SCHEDULED until then)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Repeating a dispatch with the same key returns the same job."
    )
    source: DispatchSource | None = strawberry.field(
        default=None, description="RUN_WORKFLOW when omitted."
    )
    trigger: JobTriggerInput | None = strawberry.field(
        default=None,
        description="Automation context, shown as the trigger_* values of the job's input.",
    )
    follow_up_of: strawberry.ID | None = strawberry.field(
        default=None,
        description="Makes the new job a follow-up of this finished job (its input defaults to "
        "that job's output).",
    )

    def to_request(self) -> DispatchRequest:
        return DispatchRequest(
            workflow=self.workflow,
            agent=self.agent,
            ticket_url=self.ticket_url,
            ticket_key=self.ticket_key,
            hint=self.hint,
            effort_level=self.effort_level,
            input=json_object(self.input) or {},
            scheduled_for=with_offset(self.scheduled_for, field="scheduledFor"),
            idempotency_key=self.idempotency_key,
            source=self.source or DispatchSource.RUN_WORKFLOW,
            trigger=self.trigger.to_input() if self.trigger is not None else {},
            follow_up_of=(
                job_number(self.follow_up_of, field="followUpOf")
                if self.follow_up_of is not None
                else None
            ),
        )

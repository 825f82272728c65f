"""What a dispatch asks for, and how a ticket key is read from a ticket URL."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .enums import DispatchSource, EffortLevel
from .errors import InvalidArgument

TICKET_KEY = re.compile(r"\b([A-Z][A-Z0-9]+-\d+)\b")
# Trigger values are kept in the job's input as `trigger_<name>`.
TRIGGER_PREFIX = "trigger_"
TRIGGER_NAMES = ("ticket_url", "project", "assignee", "status", "issue_key", "issue_type")
MAX_TRIGGER_VALUE = 2000


def trigger_input(trigger: dict[str, str | None], *, field_of: dict[str, str]) -> dict[str, str]:
    """The `trigger_*` input keys of an automation's context; a value over 2 000 characters is
    refused (`field_of` names each value's field for the error)."""
    values: dict[str, str] = {}
    for name in TRIGGER_NAMES:
        value = trigger.get(name)
        if value is None:
            continue
        if len(value) > MAX_TRIGGER_VALUE:
            raise InvalidArgument(
                f"trigger values are at most {MAX_TRIGGER_VALUE} characters (got {len(value)})",
                field=field_of.get(name, name),
            )
        values[TRIGGER_PREFIX + name] = value
    return values


@dataclass(frozen=True)
class DispatchRequest:
    workflow: str
    agent: str | None = None
    ticket_url: str | None = None
    ticket_key: str | None = None
    hint: str | None = None
    effort_level: EffortLevel | None = None
    input: dict[str, Any] = field(default_factory=dict)
    scheduled_for: datetime | None = None
    idempotency_key: str | None = None
    automation_id: int | None = None
    """The automation rule that dispatched the job, if one did."""
    source: DispatchSource = DispatchSource.RUN_WORKFLOW
    trigger: dict[str, str] = field(default_factory=dict)
    """`trigger_*` keys added to the input (see `trigger_input`)."""

    @property
    def job_input(self) -> dict[str, Any]:
        """The job's input: the dispatch's, with the trigger's `trigger_*` keys."""
        return {**self.input, **self.trigger}

    follow_up_of: int | None = None
    """The finished job this one follows up: its output (an object) is the input's base."""

    @property
    def resolved_ticket_key(self) -> str | None:
        if self.ticket_key:
            return self.ticket_key.strip().upper()
        match = TICKET_KEY.search(self.ticket_url or "")
        return match.group(1) if match else None


def rerun_input(original: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """A rerun's input: the original's, or the given one with the original's trigger context
    kept (unless the given one sets it)."""
    if given is None:
        return dict(original)
    kept = {key: value for key, value in original.items() if key.startswith(TRIGGER_PREFIX)}
    return {**kept, **given}

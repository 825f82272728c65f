"""What a dispatch asks for, and how a ticket key is read from a ticket URL."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .enums import EffortLevel

TICKET_KEY = re.compile(r"\b([A-Z][A-Z0-9]+-\d+)\b")


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

    @property
    def resolved_ticket_key(self) -> str | None:
        if self.ticket_key:
            return self.ticket_key.strip().upper()
        match = TICKET_KEY.search(self.ticket_url or "")
        return match.group(1) if match else None

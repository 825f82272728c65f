"""A job's notifications: each target it was owed a message, and how delivery went."""

from datetime import datetime
from typing import Self

import strawberry

from server.db import models

from .enums import DeliveryStatus, JobStatus


@strawberry.type
class NotificationDelivery:
    target: str = strawberry.field(
        description="The target's name from the configuration (never its URL or secret)."
    )
    status: JobStatus
    delivery: DeliveryStatus
    attempts: int
    last_attempt_at: datetime | None
    error: str | None

    @classmethod
    def from_row(cls, row: models.JobNotification) -> Self:
        return cls(
            target=row.target,
            status=row.status,
            delivery=row.delivery,
            attempts=row.attempts,
            last_attempt_at=row.last_attempt_at,
            error=row.error,
        )

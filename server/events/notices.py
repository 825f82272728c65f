"""Small notices: they name what changed; subscribers read the rows themselves."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobChanged:
    """Anything about a job changed; `sequence` is set when the change was a status event."""

    tenant: str
    job_number: int
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class LogAppended:
    tenant: str
    job_number: int
    sequence: int


@dataclass(frozen=True, slots=True)
class TokenRevoked:
    """An API token was revoked: every process stops trusting it at once."""

    tenant: str
    token_id: int


@dataclass(frozen=True, slots=True)
class JobDeleted:
    """The job is gone: its subscribers end, its tenant's counts change."""

    tenant: str
    job_number: int


@dataclass(frozen=True, slots=True)
class Resync:
    """Notices may have been lost (the bus reconnected): every subscriber reads afresh."""


Notice = JobChanged | LogAppended | TokenRevoked | JobDeleted
Delivery = Notice | Resync
"""What subscribers of the bus receive: the notices, and now and then a Resync."""

"""Domain errors. Services raise them; the GraphQL layer turns them into errors in one place."""

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    ALREADY_RESENT = "ALREADY_RESENT"
    VALIDATION = "VALIDATION"
    FORBIDDEN = "FORBIDDEN"
    ORCHESTRATOR_UNAVAILABLE = "ORCHESTRATOR_UNAVAILABLE"


class DomainError(Exception):
    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(DomainError):
    """An argument a person got wrong: a bad cursor, a page too large, a malformed id."""

    code = ErrorCode.VALIDATION


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class InvalidTransition(DomainError):
    code = ErrorCode.INVALID_TRANSITION


class AlreadyResent(DomainError):
    code = ErrorCode.ALREADY_RESENT


class OrchestratorUnavailable(DomainError):
    """Temporal could not be reached (or none is configured); nothing was changed."""

    code = ErrorCode.ORCHESTRATOR_UNAVAILABLE


class Forbidden(DomainError):
    """The principal's role does not allow the action."""

    code = ErrorCode.FORBIDDEN

"""Mutation payloads: the job(s) and typed user errors, never exceptions."""

import strawberry

from server.domain.errors import DomainError, ErrorCode

from .jobs import Job

strawberry.enum(ErrorCode, name="UserErrorCode")


@strawberry.type
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None

    @classmethod
    def from_error(cls, error: DomainError) -> "UserError":
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type
class JobPayload:
    job: Job | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteJobsPayload:
    deleted_count: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BulkJobPayload:
    jobs: list[Job] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)

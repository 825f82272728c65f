"""The Mutation root. Each action goes to the job service; domain errors become `errors`."""

from collections.abc import Awaitable, Callable

import strawberry
from strawberry.scalars import JSON

from resolvers.context import Info
from resolvers.ids import job_number
from resolvers.permissions import RequireRole
from resolvers.types.enums import EffortLevel
from resolvers.types.filters import JobFilter
from resolvers.types.inputs import DispatchJobInput, json_object
from resolvers.types.jobs import jobs_from_rows
from resolvers.types.payloads import BulkJobPayload, JobPayload, UserError
from server.auth import Role
from server.db import models
from server.domain.errors import DomainError, NotFound


async def job_payload(info: Info, action: Callable[[], Awaitable[models.Job]]) -> JobPayload:
    try:
        row = await action()
    except DomainError as error:
        return JobPayload(errors=[UserError.from_error(error)])
    return JobPayload(job=(await jobs_from_rows(info, [row], detail=True))[0])


def job_numbers(ids: list[strawberry.ID] | None) -> tuple[list[int], list[UserError]]:
    """The job numbers behind a list of ids, and an error for each id that names no job."""
    numbers: list[int] = []
    errors: list[UserError] = []
    for global_id in ids or ():
        try:
            numbers.append(job_number(global_id, field="ids"))
        except NotFound as error:
            errors.append(UserError.from_error(error))
    return numbers, errors


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def dispatch_job(self, info: Info, input: DispatchJobInput) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.dispatch(
                tenant=context.tenant, request=input.to_request(), actor=context.actor
            ),
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def cancel_job(self, info: Info, id: strawberry.ID) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.cancel(
                tenant=context.tenant, number=job_number(id), actor=context.actor
            ),
        )

    @strawberry.mutation(
        extensions=[RequireRole(Role.OPERATOR)],
        description=(
            "Returns the new job; the original becomes resent (canResend false). With "
            "fromFailedStep the new job starts at the step that failed, earlier steps carried "
            "over as SKIPPED with their outputs."
        ),
    )
    async def resend_job(
        self, info: Info, id: strawberry.ID, from_failed_step: bool | None = None
    ) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.resend(
                tenant=context.tenant,
                number=job_number(id),
                actor=context.actor,
                from_failed_step=bool(from_failed_step),
            ),
        )

    @strawberry.mutation(
        extensions=[RequireRole(Role.OPERATOR)],
        description=(
            "A new job from a finished one (any end status, as often as wanted), with changes if "
            "given. `input` replaces the input (checked against the workflow's inputSchema); "
            "the original is untouched (canResend unchanged)."
        ),
    )
    async def rerun_job(
        self,
        info: Info,
        id: strawberry.ID,
        input: JSON | None = None,
        agent: str | None = None,
        effort_level: EffortLevel | None = None,
    ) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.rerun(
                tenant=context.tenant,
                number=job_number(id),
                actor=context.actor,
                job_input=json_object(input),
                agent=agent,
                effort_level=effort_level,
            ),
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def approve_job(
        self, info: Info, id: strawberry.ID, comment: str | None = None
    ) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.approve(
                tenant=context.tenant, number=job_number(id), actor=context.actor, comment=comment
            ),
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def reject_job(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.reject(
                tenant=context.tenant, number=job_number(id), actor=context.actor, reason=reason
            ),
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def pause_job(self, info: Info, id: strawberry.ID) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.pause(
                tenant=context.tenant, number=job_number(id), actor=context.actor
            ),
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def resume_job(self, info: Info, id: strawberry.ID) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.jobs.resume(
                tenant=context.tenant, number=job_number(id), actor=context.actor
            ),
        )

    @strawberry.mutation(
        extensions=[RequireRole(Role.OPERATOR)],
        description=(
            "Cancel the listed jobs, or every cancellable job matching the filter "
            "(not only the visible page)."
        ),
    )
    async def cancel_jobs(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        filter: JobFilter | None = None,
    ) -> BulkJobPayload:
        context = info.context
        numbers, errors = job_numbers(ids)
        cancelled, failures = await context.jobs.cancel_many(
            tenant=context.tenant,
            numbers=numbers,
            job_filter=filter.to_domain() if filter is not None else None,
            actor=context.actor,
        )
        errors += [UserError.from_error(error) for _number, error in failures]
        return BulkJobPayload(
            jobs=await jobs_from_rows(info, cancelled, detail=False), errors=errors
        )

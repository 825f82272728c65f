"""deleteJobs: admins delete finished jobs, listed or matching a filter."""

import strawberry

from resolvers.context import Info
from resolvers.mutation import job_numbers
from resolvers.permissions import RequireRole
from resolvers.types.filters import JobFilter
from resolvers.types.payloads import DeleteJobsPayload, UserError
from server.auth import Role


@strawberry.type
class DeletionMutation:
    @strawberry.mutation(
        extensions=[RequireRole(Role.ADMIN)],
        description=(
            "Admin only: delete finished jobs with their steps, logs and artifacts. A listed job "
            "that is not finished is refused in `errors` and kept; so are, as one error, the "
            "unfinished jobs a filter matches."
        ),
    )
    async def delete_jobs(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        filter: JobFilter | None = None,
    ) -> DeleteJobsPayload:
        context = info.context
        numbers, errors = job_numbers(ids)
        outcome = await context.deletion.delete(
            tenant=context.tenant,
            numbers=numbers,
            job_filter=filter.to_domain() if filter is not None else None,
            actor=context.actor,
        )
        errors += [UserError.from_error(error) for error in outcome.refused]
        return DeleteJobsPayload(deleted_count=outcome.deleted, errors=errors)

"""Schedule mutations: each goes to the schedule service; domain errors become `errors`."""

from collections.abc import Awaitable, Callable

import strawberry

from resolvers.context import Info
from resolvers.ids import schedule_id
from resolvers.mutation import job_payload
from resolvers.permissions import RequireRole
from resolvers.types.jobs import Schedule
from resolvers.types.payloads import JobPayload, UserError
from resolvers.types.schedules import ScheduleInput, SchedulePayload
from server.auth import Role
from server.db import models
from server.domain.errors import DomainError


async def _schedule_payload(action: Callable[[], Awaitable[models.Schedule]]) -> SchedulePayload:
    try:
        row = await action()
    except DomainError as error:
        return SchedulePayload(errors=[UserError.from_error(error)])
    return SchedulePayload(schedule=Schedule.from_row(row))


@strawberry.type
class ScheduleMutation:
    @strawberry.mutation(
        extensions=[RequireRole(Role.OPERATOR)],
        description="A recurring job, kept by Temporal's Schedules.",
    )
    async def create_schedule(self, info: Info, input: ScheduleInput) -> SchedulePayload:
        context = info.context
        return await _schedule_payload(
            lambda: context.schedules.create(tenant=context.tenant, request=input.to_request())
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def pause_schedule(
        self, info: Info, id: strawberry.ID, note: str | None = None
    ) -> SchedulePayload:
        context = info.context
        return await _schedule_payload(
            lambda: context.schedules.pause(
                tenant=context.tenant, schedule_id=schedule_id(id), note=note
            )
        )

    @strawberry.mutation(extensions=[RequireRole(Role.OPERATOR)])
    async def resume_schedule(self, info: Info, id: strawberry.ID) -> SchedulePayload:
        context = info.context
        return await _schedule_payload(
            lambda: context.schedules.resume(tenant=context.tenant, schedule_id=schedule_id(id))
        )

    @strawberry.mutation(
        extensions=[RequireRole(Role.OPERATOR)],
        description="Returns the schedule as it was; the jobs it made stay.",
    )
    async def delete_schedule(self, info: Info, id: strawberry.ID) -> SchedulePayload:
        context = info.context
        return await _schedule_payload(
            lambda: context.schedules.delete(tenant=context.tenant, schedule_id=schedule_id(id))
        )

    @strawberry.mutation(
        extensions=[RequireRole(Role.OPERATOR)],
        description="Start one run now (whatever runs already); returns its job.",
    )
    async def trigger_schedule(self, info: Info, id: strawberry.ID) -> JobPayload:
        context = info.context
        return await job_payload(
            info,
            lambda: context.schedules.trigger(tenant=context.tenant, schedule_id=schedule_id(id)),
        )

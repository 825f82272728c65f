"""The schedule list, payload and input (the Schedule node lives beside Job, which it
refers to)."""

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from resolvers.context import Info
from server.domain.schedules import ScheduleRequest

from .enums import EffortLevel, ScheduleOverlap
from .inputs import json_object
from .jobs import Schedule
from .payloads import UserError


@strawberry.type
class ScheduleEdge:
    cursor: str
    node: Schedule


@strawberry.type
class ScheduleConnection:
    edges: list[ScheduleEdge]
    page_info: relay.PageInfo
    workflows: strawberry.Private[tuple[str, ...]]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.lists.schedule_total(workflows=self.workflows)


@strawberry.type
class SchedulePayload:
    schedule: Schedule | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ScheduleInput:
    workflow: str
    cron: str | None = strawberry.field(
        default=None, description="Cron expression (five fields); or intervalSeconds."
    )
    interval_seconds: int | None = strawberry.field(
        default=None, description="Seconds between runs (at least 10); or cron."
    )
    timezone: str | None = strawberry.field(
        default=None, description="IANA name; UTC when omitted."
    )
    input: JSON | None = None
    agent: str | None = None
    effort_level: EffortLevel | None = None
    paused: bool | None = None
    overlap: ScheduleOverlap | None = strawberry.field(
        default=None,
        description="What a run does when the previous run is still going; SKIP when omitted.",
    )

    def to_request(self) -> ScheduleRequest:
        return ScheduleRequest(
            workflow=self.workflow,
            cron=self.cron,
            interval_seconds=self.interval_seconds,
            timezone=self.timezone,
            input=json_object(self.input) or {},
            agent=self.agent,
            effort_level=self.effort_level,
            paused=bool(self.paused),
            overlap=self.overlap or ScheduleOverlap.SKIP,
        )

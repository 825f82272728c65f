"""`Query.schedules`: the tenant's schedules, oldest first, optionally of some workflows."""

import strawberry

from resolvers.context import Info
from resolvers.types.fleet_lists import keyset_page
from resolvers.types.jobs import Schedule
from resolvers.types.schedules import ScheduleConnection, ScheduleEdge


@strawberry.type
class ScheduleQuery:
    @strawberry.field
    async def schedules(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        workflow: list[str] | None = None,
    ) -> ScheduleConnection:
        workflows = tuple(workflow or ())
        lists = info.context.loaders.lists
        keyed, page_info = await keyset_page(
            info,
            "schedule",
            lambda after_id, limit: lists.schedules(
                workflows=workflows, after_id=after_id, limit=limit
            ),
            first=first,
            after=after,
        )
        edges = [ScheduleEdge(cursor=cursor, node=Schedule.from_row(row)) for cursor, row in keyed]
        return ScheduleConnection(edges=edges, page_info=page_info, workflows=workflows)

"""The Query root: thin resolvers over the request's loaders."""

import strawberry
from strawberry import relay

from resolvers.context import Info
from resolvers.types.counts import JobCounts, JobFilterOptions
from resolvers.types.enums import JobOrder
from resolvers.types.filters import JobFilter, domain_filter
from resolvers.types.fleet_lists import (
    AgentConnection,
    WorkflowConnection,
    agent_connection,
    workflow_connection,
)
from resolvers.types.jobs import (
    Agent,
    Automation,
    Job,
    JobConnection,
    Workflow,
    job_by_number,
    job_connection,
)


@strawberry.type
class Query:
    node: relay.Node | None = relay.node()

    @strawberry.field
    async def job(self, info: Info, number: int) -> Job | None:
        return await job_by_number(info, number, detail=True)

    @strawberry.field
    async def jobs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: JobFilter | None = None,
        order_by: JobOrder | None = None,
    ) -> JobConnection:
        return await job_connection(
            info,
            domain_filter(filter),
            first=first,
            after=after,
            last=last,
            before=before,
            order=order_by or JobOrder.CREATED_AT_DESC,
        )

    @strawberry.field
    async def job_counts(self, info: Info, filter: JobFilter | None = None) -> JobCounts:
        counts = await info.context.loaders.lists.job_counts(domain_filter(filter))
        return JobCounts.from_counts(counts)

    @strawberry.field
    async def job_filter_options(self, info: Info) -> JobFilterOptions:
        workflows, agents = await info.context.loaders.lists.filter_options()
        return JobFilterOptions(
            workflows=[Workflow.from_row(row) for row in workflows],
            agents=[Agent.from_row(row) for row in agents],
        )

    @strawberry.field
    async def agents(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AgentConnection:
        return await agent_connection(info, first=first, after=after)

    @strawberry.field
    async def automations(self, info: Info) -> list[Automation]:
        return [Automation.from_row(row) for row in await info.context.loaders.lists.automations()]

    @strawberry.field
    async def workflows(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> WorkflowConnection:
        return await workflow_connection(info, first=first, after=after)

"""Paged lists of agents and workflows."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

import strawberry
from strawberry import relay

from resolvers.context import Info
from server.reads.cursors import decode_sequence_cursor, encode_sequence_cursor
from server.reads.paging import page_request

from .jobs import Agent, Workflow


@strawberry.type
class AgentEdge:
    cursor: str
    node: Agent


@strawberry.type
class AgentConnection:
    edges: list[AgentEdge]
    page_info: relay.PageInfo

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.lists.agent_total()


@strawberry.type
class WorkflowEdge:
    cursor: str
    node: Workflow


@strawberry.type
class WorkflowConnection:
    edges: list[WorkflowEdge]
    page_info: relay.PageInfo

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.lists.workflow_total()


class _Keyed(Protocol):
    id: int


Row = TypeVar("Row", bound=_Keyed)


async def keyset_page(
    info: Info,
    kind: str,
    fetch: Callable[[int | None, int], Awaitable[Sequence[Row]]],
    *,
    first: int | None,
    after: str | None,
) -> tuple[list[tuple[str, Row]], relay.PageInfo]:
    settings = info.context.settings
    page = page_request(
        first=first, after=after, default_size=settings.page_size, max_size=settings.max_page_size
    )
    after_id = decode_sequence_cursor(after, kind, argument="after") if after else None
    rows = await fetch(after_id, page.limit + 1)
    keyed = [(encode_sequence_cursor(kind, row.id), row) for row in rows[: page.limit]]
    return keyed, relay.PageInfo(
        has_next_page=len(rows) > page.limit,
        has_previous_page=after_id is not None,
        start_cursor=keyed[0][0] if keyed else None,
        end_cursor=keyed[-1][0] if keyed else None,
    )


async def agent_connection(info: Info, *, first: int | None, after: str | None) -> AgentConnection:
    lists = info.context.loaders.lists
    keyed, page_info = await keyset_page(
        info,
        "agent",
        lambda after_id, limit: lists.agents(after_id=after_id, limit=limit),
        first=first,
        after=after,
    )
    edges = [AgentEdge(cursor=cursor, node=Agent.from_row(row)) for cursor, row in keyed]
    return AgentConnection(edges=edges, page_info=page_info)


async def workflow_connection(
    info: Info, *, first: int | None, after: str | None
) -> WorkflowConnection:
    lists = info.context.loaders.lists
    keyed, page_info = await keyset_page(
        info,
        "workflow",
        lambda after_id, limit: lists.workflows(after_id=after_id, limit=limit),
        first=first,
        after=after,
    )
    edges = [WorkflowEdge(cursor=cursor, node=Workflow.from_row(row)) for cursor, row in keyed]
    return WorkflowConnection(edges=edges, page_info=page_info)

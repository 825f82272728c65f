"""Keyset pages at their edges: equal creation times across a page boundary, jobs added
between pages, backward walks in both orders, and creation-time filters with offsets."""

from datetime import timedelta
from typing import Any

import pytest

from server.runtime import Runtime
from tests.support.factories import BASE_TIME, build_world
from tests.support.graphql import GraphQLClient
from tests.support.jobs import dispatch_job

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String,
           $filter: JobFilter, $orderBy: JobOrder) {
  jobs(first: $first, after: $after, last: $last, before: $before,
       filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { number } }
  }
}
"""
COUNTS = "query($filter: JobFilter) { jobCounts(filter: $filter) { all completed } }"
ORDERS = ["CREATED_AT_DESC", "CREATED_AT_ASC"]


def numbers(page: dict[str, Any]) -> list[int]:
    return [edge["node"]["number"] for edge in page["edges"]]


async def walk_forward(gql: GraphQLClient, order: str, size: int) -> list[list[int]]:
    """Every page from the first, following endCursor while there is a next page."""
    pages: list[list[int]] = []
    cursor = None
    while True:
        page = (await gql.execute(PAGE, first=size, after=cursor, orderBy=order))["jobs"]
        pages.append(numbers(page))
        assert page["pageInfo"]["hasPreviousPage"] is (cursor is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        cursor = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("order", ORDERS)
async def test_jobs_created_at_the_same_instant_are_split_across_pages_exactly_once(
    runtime: Runtime, tenant: str, gql: GraphQLClient, order: str
) -> None:
    # given seven jobs created at the same instant, and one on either side of it
    specs = [{"created_at": BASE_TIME - timedelta(seconds=1)}]
    specs += [{"created_at": BASE_TIME} for _ in range(7)]
    specs += [{"created_at": BASE_TIME + timedelta(seconds=1)}]
    world = await build_world(runtime.session_factory, tenant, specs)
    ascending = [job.number for job in world.jobs]
    expected = ascending if order == "CREATED_AT_ASC" else ascending[::-1]

    # when they are read three at a time, forward
    pages = await walk_forward(gql, order, 3)

    # then every job comes once, ties broken by number in the order's direction
    assert pages == [expected[0:3], expected[3:6], expected[6:9]]


@pytest.mark.parametrize("order", ORDERS)
async def test_jobs_added_between_pages_are_neither_repeated_nor_skipped(
    runtime: Runtime, tenant: str, gql: GraphQLClient, order: str
) -> None:
    # given six jobs, and the first page of three read
    world = await build_world(runtime.session_factory, tenant, [{} for _ in range(6)])
    old = [job.number for job in world.jobs]
    first = (await gql.execute(PAGE, first=3, orderBy=order))["jobs"]

    # when two newer jobs are added before the next page is read
    new = [(await dispatch_job(runtime, tenant)).number for _ in range(2)]
    rest = await gql.execute(PAGE, first=10, after=first["pageInfo"]["endCursor"], orderBy=order)

    # then the walk goes on where it was: newest first, the new jobs are ahead of the walk
    # (a fresh first page shows them); oldest first, they come at its end
    if order == "CREATED_AT_DESC":
        assert numbers(first) == old[::-1][:3]
        assert numbers(rest["jobs"]) == old[::-1][3:]
    else:
        assert numbers(first) == old[:3]
        assert numbers(rest["jobs"]) == old[3:] + new
    assert rest["jobs"]["pageInfo"]["hasPreviousPage"] is True
    assert rest["jobs"]["totalCount"] == 8


@pytest.mark.parametrize("order", ORDERS)
async def test_a_backward_walk_reads_every_job_once_in_the_order(
    runtime: Runtime, tenant: str, gql: GraphQLClient, order: str
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{} for _ in range(8)])
    ascending = [job.number for job in world.jobs]
    expected = ascending if order == "CREATED_AT_ASC" else ascending[::-1]

    # when the list is read from its end, three at a time, with last/before
    pages, flags = [], []
    cursor = None
    while True:
        page = (await gql.execute(PAGE, last=3, before=cursor, orderBy=order))["jobs"]
        pages.insert(0, numbers(page))
        info = page["pageInfo"]
        flags.insert(0, (info["hasPreviousPage"], info["hasNextPage"]))
        if not info["hasPreviousPage"]:
            break
        cursor = info["startCursor"]

    # then each page is in the order, the pages tile the list, and the flags say where they are
    assert pages == [expected[0:2], expected[2:5], expected[5:8]]
    assert flags == [(False, True), (True, True), (True, False)]


async def test_a_middle_page_has_both_a_previous_and_a_next_page(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(runtime.session_factory, tenant, [{} for _ in range(9)])
    first = (await gql.execute(PAGE, first=3))["jobs"]

    middle = (await gql.execute(PAGE, first=3, after=first["pageInfo"]["endCursor"]))["jobs"]
    back = (await gql.execute(PAGE, last=3, before=middle["pageInfo"]["startCursor"]))["jobs"]

    assert (middle["pageInfo"]["hasPreviousPage"], middle["pageInfo"]["hasNextPage"]) == (
        True,
        True,
    )
    assert numbers(back) == numbers(first)
    assert back["pageInfo"]["hasPreviousPage"] is False


@pytest.mark.parametrize(
    ("created_after", "created_before", "expected_minutes"),
    [
        # 09:01 UTC written with +02:00 and 09:03 UTC written with -05:00: the start is in,
        # the end is out
        ("2026-01-01T11:01:00+02:00", "2026-01-01T04:03:00-05:00", [1, 2]),
        # a microsecond either side of a job's creation time
        ("2026-01-01T09:01:00.000001Z", "2026-01-01T09:03:00.000001Z", [2, 3]),
        # across midnight in another zone: 2025-12-31T23:30-10:00 is 09:30 UTC on 1 January
        ("2025-12-31T23:02:00-10:00", None, [2, 3, 4]),
        (None, "2026-01-01T18:31:00+09:30", [0]),
    ],
)
async def test_creation_time_filters_honour_offsets_and_their_bounds(
    runtime: Runtime,
    tenant: str,
    gql: GraphQLClient,
    created_after: str | None,
    created_before: str | None,
    expected_minutes: list[int],
) -> None:
    # given jobs created at 09:00, 09:01, ... 09:04 UTC
    world = await build_world(runtime.session_factory, tenant, [{} for _ in range(5)])
    job_filter = {"createdAfter": created_after, "createdBefore": created_before}

    page = (await gql.execute(PAGE, filter=job_filter, orderBy="CREATED_AT_ASC"))["jobs"]
    counts = (await gql.execute(COUNTS, filter=job_filter))["jobCounts"]

    expected = [world.jobs[minute].number for minute in expected_minutes]
    assert numbers(page) == expected
    assert page["totalCount"] == len(expected)
    assert counts == {"all": len(expected), "completed": len(expected)}


@pytest.mark.parametrize("field", ["createdAfter", "createdBefore"])
async def test_a_creation_time_without_an_offset_is_refused(gql: GraphQLClient, field: str) -> None:
    body = await gql.raw(PAGE, filter={field: "2026-01-01T09:00:00"})

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["message"] == (f"{field} needs a timezone offset, e.g. 2026-01-01T09:00:00Z")

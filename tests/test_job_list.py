"""The Jobs page list: keyset pages, filters, totals, counts and dropdown options."""

from datetime import timedelta

import pytest

from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.factories import BASE_TIME, build_world
from tests.support.graphql import GraphQLClient

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String,
           $filter: JobFilter, $orderBy: JobOrder) {
  jobs(first: $first, after: $after, last: $last, before: $before,
       filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { number status ticketKey } }
  }
}
"""

COUNTS = """
query Counts($filter: JobFilter) {
  jobCounts(filter: $filter) {
    all scheduled pending running waiting paused completed failed cancelled
  }
}
"""

OPTIONS = """
{ jobFilterOptions { workflows { slug aliases } agents { name } } }
"""


def numbers(data: dict) -> list[int]:  # type: ignore[type-arg]
    return [edge["node"]["number"] for edge in data["jobs"]["edges"]]


async def test_default_page_is_fifty_newest_first_and_cursors_walk_everything(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{} for _ in range(120)])
    expected = [job.number for job in reversed(world.jobs)]

    first = await gql.execute(PAGE)
    assert numbers(first) == expected[:50]
    assert first["jobs"]["totalCount"] == 120
    assert first["jobs"]["pageInfo"]["hasNextPage"] is True
    assert first["jobs"]["pageInfo"]["hasPreviousPage"] is False

    seen = numbers(first)
    cursor = first["jobs"]["pageInfo"]["endCursor"]
    while cursor:
        page = await gql.execute(PAGE, after=cursor)
        seen += numbers(page)
        info = page["jobs"]["pageInfo"]
        cursor = info["endCursor"] if info["hasNextPage"] else None
    assert seen == expected


async def test_oldest_first_and_backward_paging(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{} for _ in range(7)])
    oldest_first = [job.number for job in world.jobs]

    ascending = await gql.execute(PAGE, first=3, orderBy="CREATED_AT_ASC")
    assert numbers(ascending) == oldest_first[:3]

    newest = await gql.execute(PAGE, first=3)
    end = newest["jobs"]["pageInfo"]["endCursor"]
    back = await gql.execute(PAGE, last=2, before=end)
    # Backward from the third-newest: the two newer jobs, still in newest-first order.
    assert numbers(back) == list(reversed(oldest_first))[:2]
    assert back["jobs"]["pageInfo"]["hasPreviousPage"] is False
    assert back["jobs"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100"),
        ({"first": -1}, "`first` must be between 0 and 100"),
        ({"last": 500}, "`last` must be between 0 and 100"),
        ({"after": "not-a-cursor"}, "is not a cursor this API issued"),
        ({"first": 5, "last": 5}, "not both"),
    ],
)
async def test_bad_paging_arguments_get_clear_errors(
    gql: GraphQLClient, arguments: dict[str, object], message: str
) -> None:
    body = await gql.raw(PAGE, **arguments)
    assert body["data"] is None
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_cursor_from_another_ordering_is_refused(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(runtime.session_factory, tenant, [{} for _ in range(3)])
    page = await gql.execute(PAGE, first=1)
    cursor = page["jobs"]["pageInfo"]["endCursor"]
    body = await gql.raw(PAGE, first=1, after=cursor, orderBy="CREATED_AT_ASC")
    assert "issued for ordering CREATED_AT_DESC" in body["errors"][0]["message"]


async def test_filters(runtime: Runtime, tenant: str, gql: GraphQLClient) -> None:
    world = await build_world(
        runtime.session_factory,
        tenant,
        [
            {"status": JobStatus.RUNNING, "ticket_key": "SCRUM-329"},
            {"status": JobStatus.FAILED, "ticket_key": "MVP-1601", "workflow": "code-review"},
            {"status": JobStatus.PENDING, "ticket_key": None, "agent": "agent-02"},
            {"status": JobStatus.FAILED, "ticket_key": "SCRUM-32"},
            {"status": JobStatus.COMPLETED, "ticket_key": "scrum-3200"},
        ],
    )
    n = [job.number for job in world.jobs]

    async def matching(job_filter: dict[str, object]) -> set[int]:
        return set(numbers(await gql.execute(PAGE, filter=job_filter)))

    assert await matching({"status": ["FAILED"]}) == {n[1], n[3]}
    assert await matching({"status": ["RUNNING", "PENDING"]}) == {n[0], n[2]}
    assert await matching({"search": "Scrum-32"}) == {n[0], n[3], n[4]}
    assert await matching({"search": "%"}) == set()
    assert await matching({"workflow": ["code-review"]}) == {n[1]}
    assert await matching({"workflow": ["agent_se_rca_fix"]}) == {n[0], n[2], n[3], n[4]}
    assert await matching({"workflow": ["no-such-workflow"]}) == set()
    assert await matching({"agent": ["agent-02"]}) == {n[2]}
    after = (BASE_TIME + timedelta(minutes=1)).isoformat()
    before = (BASE_TIME + timedelta(minutes=3)).isoformat()
    assert await matching({"createdAfter": after, "createdBefore": before}) == {n[1], n[2]}
    totals = await gql.execute(PAGE, filter={"status": ["FAILED"], "search": "scrum"})
    assert totals["jobs"]["totalCount"] == 1


async def test_hide_resent_leaves_out_superseded_jobs(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(
        runtime.session_factory,
        tenant,
        [{"status": JobStatus.FAILED}, {"status": JobStatus.FAILED}],
    )
    original, kept = world.jobs
    resent = await runtime.jobs.resend(tenant=tenant, number=original.number, actor="alice")

    visible = numbers(await gql.execute(PAGE, filter={"hideResent": True}))
    assert set(visible) == {kept.number, resent.number}
    assert len(numbers(await gql.execute(PAGE))) == 3


async def test_counts_apply_the_non_status_parts_of_the_filter(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(
        runtime.session_factory,
        tenant,
        [
            {"status": JobStatus.RUNNING},
            {"status": JobStatus.RUNNING, "workflow": "code-review"},
            {"status": JobStatus.FAILED},
            {"status": JobStatus.SCHEDULED},
        ],
    )
    everything = (await gql.execute(COUNTS))["jobCounts"]
    assert everything == {
        "all": 4,
        "scheduled": 1,
        "pending": 0,
        "running": 2,
        "waiting": 0,
        "paused": 0,
        "completed": 0,
        "failed": 1,
        "cancelled": 0,
    }
    narrowed = await gql.execute(COUNTS, filter={"workflow": ["se-rca-fix"], "status": ["FAILED"]})
    assert narrowed["jobCounts"]["all"] == 3
    assert narrowed["jobCounts"]["running"] == 1
    assert narrowed["jobCounts"]["scheduled"] == 1


async def test_counts_follow_status_changes(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": JobStatus.RUNNING}])
    await runtime.jobs.cancel(tenant=tenant, number=world.jobs[0].number, actor="alice")
    counts = (await gql.execute(COUNTS))["jobCounts"]
    assert (counts["running"], counts["cancelled"], counts["all"]) == (0, 1, 1)
    assert (await gql.execute(PAGE, filter={"status": ["CANCELLED"]}))["jobs"]["totalCount"] == 1


async def test_filter_options_come_from_job_data(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(
        runtime.session_factory,
        tenant,
        [{"agent": "agent-01"}, {"agent": "agent-01"}, {"agent": None}],
    )
    options = (await gql.execute(OPTIONS))["jobFilterOptions"]
    assert options["workflows"] == [{"slug": "se-rca-fix", "aliases": ["agent_se_rca_fix"]}]
    assert options["agents"] == [{"name": "agent-01"}]

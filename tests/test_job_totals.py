"""`totalCount` of a filtered job list is exact up to JOBMONITOR_EXACT_TOTAL_LIMIT jobs; above
it, on PostgreSQL, it is estimated (from a sample) and `totalCountExact` says so."""

from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.auth import app_with
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient, serving

TOTAL = """
query Total($filter: JobFilter) {
  jobs(first: 2, filter: $filter) { totalCount totalCountExact edges { node { number } } }
}
"""
LIMIT = 3


async def totals(runtime: Runtime, search: str, **job_filter: object) -> dict[str, object]:
    # app_with turns auth on; these tests read as the runtime does, without tokens
    app = app_with(runtime, exact_total_limit=LIMIT, auth=runtime.settings.auth)
    async with serving(app) as http:
        data = await GraphQLClient(http).execute(TOTAL, filter={"search": search, **job_filter})
    jobs: dict[str, object] = data["jobs"]
    return jobs


async def test_a_total_within_the_limit_is_exact(runtime: Runtime, tenant: str) -> None:
    await build_world(
        runtime.session_factory,
        tenant,
        [{"ticket_key": f"ALPHA-{n}"} for n in range(LIMIT)] + [{"ticket_key": "BETA-1"}],
    )

    found = await totals(runtime, "alpha")

    assert (found["totalCount"], found["totalCountExact"]) == (LIMIT, True)


async def test_a_total_beyond_the_limit_says_whether_it_is_an_estimate(
    runtime: Runtime, tenant: str
) -> None:
    await build_world(
        runtime.session_factory,
        tenant,
        [{"ticket_key": f"GAMMA-{n}", "status": JobStatus.FAILED} for n in range(LIMIT + 4)]
        + [{"ticket_key": "GAMMA-X", "status": JobStatus.COMPLETED}],
    )

    found = await totals(runtime, "gamma", status=["FAILED"])

    on_postgres = runtime.settings.database_url.startswith("postgresql")
    assert found["totalCountExact"] is (not on_postgres)
    # the estimate never says fewer than were counted before giving up
    assert isinstance(found["totalCount"], int)
    assert found["totalCount"] >= LIMIT + 1
    if not on_postgres:
        assert found["totalCount"] == LIMIT + 4
    assert len(found["edges"]) == 2  # type: ignore[arg-type]

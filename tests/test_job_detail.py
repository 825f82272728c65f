"""One job: its fields, relations, logs, global ids, and the SQL a page of them costs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from server.app import create_app
from server.db.models import Job
from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.factories import add_details, build_world
from tests.support.graphql import GraphQLClient, serving

DETAIL = """
query Detail($number: Int!) {
  job(number: $number) {
    id number pipelineId name status effortLevel ticketKey ticketUrl hint input
    trigger { ticketUrl project assignee status issueKey issueType }
    output error currentStep stepCount createdAt startedAt completedAt durationSeconds
    workflow { slug displayName aliases }
    agent { name status }
    steps { index name status attempt retryCount durationSeconds }
    metrics { totalDurationSeconds stepsSucceeded stepsFailed retryCount costUsd }
    events { sequence fromStatus toStatus actor }
    canCancel canResend
    resentFrom { number } resentAs { number }
    timeline { available unavailableReason phases { name } }
  }
}
"""

LOGS = """
query Logs($number: Int!, $first: Int, $after: String, $streams: [LogStream!]) {
  job(number: $number) {
    logs(first: $first, after: $after, streams: $streams) {
      pageInfo { hasNextPage endCursor }
      edges { node { sequence stream message } }
    }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on Job { number }
    ... on Workflow { slug }
    ... on Agent { name }
  }
}
"""

PAGE_WITH_EVERYTHING = """
query Page($first: Int, $filter: JobFilter) {
  jobs(first: $first, filter: $filter) {
    totalCount
    edges { node {
      number name status ticketKey stepCount durationSeconds canCancel canResend
      workflow { slug displayName } agent { name status }
      steps { name status attempt } events { sequence toStatus }
      metrics { stepsSucceeded retryCount }
      resentFrom { number } resentAs { number }
    } }
  }
}
"""

AUTOMATION_INPUT = {
    "trigger_ticket_url": "https://tracker.example.com/browse/SCRUM-329",
    "trigger_project": "SCRUM",
    "trigger_assignee": "alice",
    "trigger_status": "To Do",
    "trigger_issue_key": "SCRUM-329",
    "trigger_issue_type": "Bug",
    "repo": "example/app",
}


async def test_detail_fields(runtime: Runtime, tenant: str, gql: GraphQLClient) -> None:
    started = datetime.now(UTC) - timedelta(seconds=30)
    world = await build_world(
        runtime.session_factory,
        tenant,
        [
            {
                "status": JobStatus.RUNNING,
                "ticket_key": "SCRUM-329",
                "ticket_url": "https://tracker.example.com/browse/SCRUM-329",
                "hint": "look at the retry loop",
                "input": AUTOMATION_INPUT,
                "started_at": started,
                "current_step": 1,
                "step_count": 3,
                "cost_usd": 0.25,
            }
        ],
    )
    job = world.jobs[0]
    await add_details(runtime.session_factory, job, steps=3, logs=0)

    data = (await gql.execute(DETAIL, number=job.number))["job"]

    assert data["pipelineId"] == f"pipeline-job-{job.number}"
    assert data["name"] == "se-rca-fix — SCRUM-329"
    assert data["trigger"] == {
        "ticketUrl": AUTOMATION_INPUT["trigger_ticket_url"],
        "project": "SCRUM",
        "assignee": "alice",
        "status": "To Do",
        "issueKey": "SCRUM-329",
        "issueType": "Bug",
    }
    assert data["input"] == AUTOMATION_INPUT
    assert data["workflow"] == {
        "slug": "se-rca-fix",
        "displayName": "SE Rca Fix",
        "aliases": ["agent_se_rca_fix"],
    }
    assert data["agent"] == {"name": "agent-01", "status": "ONLINE"}
    assert 29 <= data["durationSeconds"] < 120
    assert [step["attempt"] for step in data["steps"]] == [1, 1, 2]
    assert data["steps"][2]["retryCount"] == 1
    assert data["steps"][0]["durationSeconds"] == 5.0
    assert data["metrics"]["stepsSucceeded"] == 3
    assert data["metrics"]["retryCount"] == 1
    assert data["metrics"]["costUsd"] == 0.25
    assert data["events"][0]["toStatus"] == "RUNNING"
    assert (data["canCancel"], data["canResend"]) == (True, False)
    assert data["timeline"]["available"] is False
    assert data["timeline"]["unavailableReason"] == "Temporal is not configured for this server"


async def test_queued_job_without_ticket(runtime: Runtime, tenant: str, gql: GraphQLClient) -> None:
    world = await build_world(
        runtime.session_factory, tenant, [{"status": JobStatus.PENDING, "agent": None}]
    )
    data = (await gql.execute(DETAIL, number=world.jobs[0].number))["job"]
    assert data["name"] == "se-rca-fix — queued"
    assert data["agent"] is None
    assert data["trigger"] is None
    assert data["durationSeconds"] is None


async def test_resent_links_and_flags(runtime: Runtime, tenant: str, gql: GraphQLClient) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": JobStatus.CANCELLED}])
    original = world.jobs[0]
    assert (await gql.execute(DETAIL, number=original.number))["job"]["canResend"] is True

    resent = await runtime.jobs.resend(tenant=tenant, number=original.number, actor="bob")

    before = (await gql.execute(DETAIL, number=original.number))["job"]
    after = (await gql.execute(DETAIL, number=resent.number))["job"]
    assert before["resentAs"] == {"number": resent.number}
    assert before["canResend"] is False
    assert after["resentFrom"] == {"number": original.number}
    assert after["status"] == "PENDING"
    assert after["canCancel"] is True


async def test_unknown_job_is_null(gql: GraphQLClient) -> None:
    assert (await gql.execute(DETAIL, number=987654321))["job"] is None


async def test_logs_page_in_order_with_stream_filter(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{}])
    job = world.jobs[0]
    await add_details(runtime.session_factory, job, steps=0, logs=9)

    first = (await gql.execute(LOGS, number=job.number, first=4))["job"]["logs"]
    assert [edge["node"]["sequence"] for edge in first["edges"]] == [1, 2, 3, 4]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await gql.execute(LOGS, number=job.number, after=first["pageInfo"]["endCursor"]))[
        "job"
    ]["logs"]
    assert [edge["node"]["sequence"] for edge in rest["edges"]] == [5, 6, 7, 8, 9]
    assert rest["pageInfo"]["hasNextPage"] is False

    stderr = (await gql.execute(LOGS, number=job.number, streams=["STDERR"]))["job"]["logs"]
    assert {edge["node"]["stream"] for edge in stderr["edges"]} == {"STDERR"}
    assert len(stderr["edges"]) == 3


async def test_node_resolves_every_type_by_global_id(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{}])
    job_id = (await gql.execute(DETAIL, number=world.jobs[0].number))["job"]["id"]

    assert (await gql.execute(NODE, id=job_id))["node"]["number"] == world.jobs[0].number
    workflows = await gql.execute("{ workflows { edges { node { id slug } } } }")
    workflow = workflows["workflows"]["edges"][0]["node"]
    assert (await gql.execute(NODE, id=workflow["id"]))["node"]["slug"] == workflow["slug"]
    agents = await gql.execute("{ agents { totalCount edges { node { id name } } } }")
    assert agents["agents"]["totalCount"] == 2
    agent = agents["agents"]["edges"][0]["node"]
    assert (await gql.execute(NODE, id=agent["id"]))["node"]["name"] == agent["name"]


async def test_node_of_a_missing_job_is_null_and_garbage_is_an_error(gql: GraphQLClient) -> None:
    missing = await gql.execute(NODE, id="Sm9iOjk5OTk5OTk5OQ==")  # Job:999999999
    assert missing["node"] is None
    garbage = await gql.raw(NODE, id="%%%")
    assert garbage["data"] == {"node": None}
    [error] = garbage["errors"]
    assert (error["message"], error["path"]) == (
        'Value cannot represent a GlobalID: "%%%".',
        ["node"],
    )


async def test_agent_and_workflow_jobs(runtime: Runtime, tenant: str, gql: GraphQLClient) -> None:
    await build_world(
        runtime.session_factory,
        tenant,
        [{"agent": "agent-02"}, {"agent": "agent-01", "workflow": "code-review"}, {}],
    )
    data = await gql.execute(
        """{
          agents { edges { node { name jobs { totalCount } } } }
          workflows { edges { node { slug jobs(first: 1) { totalCount edges { cursor } } } } }
        }"""
    )
    per_agent = {
        e["node"]["name"]: e["node"]["jobs"]["totalCount"] for e in data["agents"]["edges"]
    }
    assert per_agent == {"agent-01": 2, "agent-02": 1}
    per_workflow = {
        e["node"]["slug"]: e["node"]["jobs"]["totalCount"] for e in data["workflows"]["edges"]
    }
    assert per_workflow == {"se-rca-fix": 2, "code-review": 1}


@pytest.mark.parametrize("page_size", [10, 50])
@pytest.mark.parametrize(
    ("job_filter", "expected_reads"),
    [
        # page, total, workflows, agents, steps, events, the jobs they were resent from and
        # those jobs' agents (one of them not on the page): one each.
        (None, 8),
        # and the filter's workflow names resolved to ids, for the page and for the total.
        ({"workflow": ["se-rca-fix"], "status": ["PENDING"]}, 10),
    ],
)
async def test_a_page_costs_the_same_statements_whatever_its_size(
    runtime: Runtime,
    tenant: str,
    gql: GraphQLClient,
    sql_statements: list[str],
    page_size: int,
    job_filter: dict[str, list[str]] | None,
    expected_reads: int,
) -> None:
    # given failed jobs, each resent as a newer job (the page holds the newer ones only)
    failed = [
        {"status": JobStatus.FAILED, "agent": f"agent-0{1 + i % 2}"} for i in range(page_size)
    ]
    resent = [{"status": JobStatus.PENDING, "agent": "agent-01"}] * page_size
    world = await build_world(runtime.session_factory, tenant, failed + resent)
    await resent_as(runtime, world.jobs[:page_size], world.jobs[page_size:])
    for job in world.jobs:
        await add_details(runtime.session_factory, job, steps=2, logs=0)
    sql_statements.clear()

    # when a page of them is read, with every field and both resend links
    data = await gql.execute(PAGE_WITH_EVERYTHING, first=page_size, filter=job_filter)

    # then it is full, links resolve, and the statements do not grow with the page
    edges = data["jobs"]["edges"]
    assert len(edges) == page_size
    assert data["jobs"]["totalCount"] == (page_size if job_filter else 2 * page_size)
    originals = {job.number for job in world.jobs[:page_size]}
    assert {e["node"]["resentFrom"]["number"] for e in edges} == originals
    reads = [s for s in sql_statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == expected_reads, "\n\n".join(r[:200] for r in reads)


async def resent_as(runtime: Runtime, originals: list[Job], copies: list[Job]) -> None:
    """Link each original to its copy as resent."""
    async with runtime.session_factory() as session, session.begin():
        for original, copy in zip(originals, copies, strict=True):
            await session.execute(
                update(Job)
                .where(Job.number == original.number)
                .values(resent_as_number=copy.number)
            )
            await session.execute(
                update(Job)
                .where(Job.number == copy.number)
                .values(resent_from_number=original.number)
            )


async def test_get_requests_healthz_and_graphiql(runtime: Runtime, tenant: str) -> None:
    settings = runtime.settings.model_copy(update={"graphiql": True})
    async with serving(create_app(runtime=replace(runtime, settings=settings))) as http:
        response = await http.get("/graphql", params={"query": "{ jobs { totalCount } }"})
        health = await http.get("/healthz")
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.json() == {"data": {"jobs": {"totalCount": 0}}}
    assert health.json() == {"status": "ok"}
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()

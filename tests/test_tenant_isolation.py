"""Two tenants, one server: every query, mutation and subscription of the contract, asked
with tenant A's admin token about tenant B's rows, sees and touches only tenant A.

A leak is any of B's ids, job numbers or marker strings in an answer to A, or any change to
B's rows. `CONTRACT` lists what the API contract offers; a new operation fails the coverage
test until it is added here.
"""

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import build_schema as parse_sdl
from sqlalchemy import func, select
from strawberry.relay import GlobalID

from server.auth import Role
from server.db.models import Agent, Job, JobEvent, JobStatusCount, Workflow
from server.domain.enums import AgentStatus, JobStatus
from server.runtime import Runtime
from tests.support.auth import app_with, bearer, token_for
from tests.support.contract import CONTRACT
from tests.support.factories import BASE_TIME, add_details, build_world
from tests.support.servers import LiveServer, serve
from tests.support.websocket import PROTOCOLS, GraphQLWebSocket, graphql_ws

B_MARKER = "SECRET-B"
B_ONLY = ("b-only-flow", "b-only-agent")
NOBODY = "no-such-name"

JOB_FIELDS = """
  id number pipelineId name status ticketKey hint input output error
  workflow { id slug } agent { id name } resentFrom { id } resentAs { id }
  steps { name } events { actor } logs(first: 5) { edges { node { message } } }
"""
QUERIES: dict[str, list[str]] = {
    "node": [
        "query($id: ID!) { node(id: $id) { id ... on Job { number ticketKey } "
        "... on Workflow { slug } ... on Agent { name } } }"
    ],
    "job": ["query($number: Int!) { job(number: $number) { " + JOB_FIELDS + " } }"],
    "jobs": [
        "{ jobs(first: 100) { totalCount edges { node { " + JOB_FIELDS + " } } } }",
        '{ jobs(filter: {search: "SECRET"}) { totalCount edges { node { number } } } }',
        '{ jobs(filter: {workflow: ["b-only-flow"], agent: ["b-only-agent"]}) '
        "{ totalCount edges { node { number } } } }",
        "{ jobs(last: 100, orderBy: CREATED_AT_ASC) { totalCount edges { node { number } } } }",
        "query($after: String) { jobs(after: $after) { edges { node { number } } } }",
    ],
    "jobCounts": [
        "{ jobCounts { all scheduled pending running waiting paused completed failed cancelled } }"
    ],
    "jobFilterOptions": ["{ jobFilterOptions { workflows { id slug } agents { id name } } }"],
    "agents": [
        "{ agents(first: 100) { totalCount edges { node { id name "
        "jobs(first: 100) { totalCount edges { node { number } } } } } } }"
    ],
    "workflows": [
        "{ workflows(first: 100) { totalCount edges { node { id slug "
        "jobs(first: 100) { totalCount edges { node { number } } } } } } }"
    ],
}
# What tenant A counts, query by query: A's two jobs run on agent-01 under se-rca-fix.
A_TOTALS: dict[str, dict[str, int]] = {
    QUERIES["jobs"][0]: {"jobs/totalCount": 2},
    QUERIES["jobs"][1]: {"jobs/totalCount": 0},
    QUERIES["jobs"][2]: {"jobs/totalCount": 0},
    QUERIES["jobs"][3]: {"jobs/totalCount": 2},
    QUERIES["jobs"][4]: {},
    QUERIES["jobCounts"][0]: {
        "jobCounts/all": 2,
        "jobCounts/running": 1,
        "jobCounts/waiting": 1,
        **{
            f"jobCounts/{status}": 0
            for status in ("scheduled", "pending", "paused", "completed", "failed", "cancelled")
        },
    },
    QUERIES["jobFilterOptions"][0]: {},
    QUERIES["agents"][0]: {
        "agents/totalCount": 2,
        "agents/agent-01/jobs/totalCount": 2,
        "agents/agent-02/jobs/totalCount": 0,
    },
    QUERIES["workflows"][0]: {
        "workflows/totalCount": 2,
        "workflows/se-rca-fix/jobs/totalCount": 2,
        "workflows/code-review/jobs/totalCount": 0,
    },
}
PAYLOAD = "{ job { id number ticketKey } errors { code message field } }"
MUTATIONS: dict[str, str] = {
    "cancelJob": "mutation($id: ID!) { cancelJob(id: $id) " + PAYLOAD + " }",
    "resendJob": "mutation($id: ID!) { resendJob(id: $id, fromFailedStep: true) " + PAYLOAD + " }",
    "approveJob": 'mutation($id: ID!) { approveJob(id: $id, comment: "x") ' + PAYLOAD + " }",
    "rejectJob": 'mutation($id: ID!) { rejectJob(id: $id, reason: "x") ' + PAYLOAD + " }",
    "pauseJob": "mutation($id: ID!) { pauseJob(id: $id) " + PAYLOAD + " }",
    "resumeJob": "mutation($id: ID!) { resumeJob(id: $id) " + PAYLOAD + " }",
}
CANCEL_MANY_IDS = (
    "mutation($ids: [ID!]) { cancelJobs(ids: $ids) "
    "{ jobs { id number } errors { code message field } } }"
)
CANCEL_MANY_FILTER = (
    "mutation { cancelJobs(filter: {}) { jobs { id number ticketKey } errors { code } } }"
)
DISPATCH = "mutation($input: DispatchJobInput!) { dispatchJob(input: $input) " + PAYLOAD + " }"
SUBSCRIPTIONS: dict[str, str] = {
    "jobStatusChanged": "subscription { jobStatusChanged(after: 0) "
    "{ sequence status job { id number ticketKey } } }",
    "jobUpdated": "subscription($id: ID!) { jobUpdated(id: $id) { id number ticketKey } }",
    "jobLogs": "subscription($id: ID!) { jobLogs(id: $id, after: 0) { sequence message } }",
    "jobCounts": "subscription { jobCounts { all running cancelled } }",
}
B_SPECS: list[dict[str, Any]] = [
    {"status": status, "ticket_key": f"{B_MARKER}-{n}", "hint": B_MARKER}
    for n, status in enumerate(
        [
            JobStatus.RUNNING,
            JobStatus.FAILED,
            JobStatus.WAITING,
            JobStatus.PAUSED,
            JobStatus.COMPLETED,
            JobStatus.CANCELLED,
        ]
    )
]
B_SPECS[0]["idempotency_key"] = "shared-key"
A_SPECS: list[dict[str, Any]] = [
    {"status": JobStatus.RUNNING, "ticket_key": "A-1"},
    {"status": JobStatus.WAITING},
]


@dataclass
class Worlds:
    a: str
    b: str
    a_token: str
    b_token: str
    b_ids: set[str]
    b_numbers: set[int]
    b_cursor: str


class LeakFinder:
    """Counts everything tenant A was shown that belongs to tenant B."""

    def __init__(self, worlds: Worlds) -> None:
        self.worlds = worlds
        self.leaks: list[str] = []
        self.checked = 0

    def check(self, label: str, body: Any) -> None:
        self.checked += 1
        text = repr(body)
        for marker in (B_MARKER, *B_ONLY):
            if marker in text:
                self.leaks.append(f"{label}: {marker}")
        for key, value in _items(body):
            if key == "id" and value in self.worlds.b_ids:
                self.leaks.append(f"{label}: id {value}")
            if key == "number" and value in self.worlds.b_numbers:
                self.leaks.append(f"{label}: job #{value}")
            if key == "code" and value == "FORBIDDEN":
                self.leaks.append(f"{label}: FORBIDDEN tells B's rows exist")


def _items(body: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(body, dict):
        for key, value in body.items():
            yield key, value
            yield from _items(value)
    elif isinstance(body, list):
        for value in body:
            yield from _items(value)


async def _b_only_rows(runtime: Runtime, tenant: str) -> None:
    async with runtime.session_factory() as session, session.begin():
        session.add(
            Workflow(
                tenant_id=tenant, slug=B_ONLY[0], display_name="B", aliases=[], created_at=BASE_TIME
            )
        )
        session.add(Agent(tenant_id=tenant, name=B_ONLY[1], status=AgentStatus.ONLINE))


async def _snapshot(runtime: Runtime, tenant: str) -> list[Any]:
    async with runtime.session_factory() as session:
        jobs = (
            await session.execute(
                select(Job.number, Job.status, Job.version, Job.resent_as_number)
                .where(Job.tenant_id == tenant)
                .order_by(Job.number)
            )
        ).all()
        events = await session.scalar(
            select(func.count()).select_from(JobEvent).where(JobEvent.tenant_id == tenant)
        )
        counts = (
            await session.execute(
                select(JobStatusCount.status, JobStatusCount.count)
                .where(JobStatusCount.tenant_id == tenant)
                .order_by(JobStatusCount.status)
            )
        ).all()
    return [list(jobs), events, list(counts)]


@pytest.fixture
async def server(runtime: Runtime) -> AsyncIterator[LiveServer]:
    async with serve(app_with(runtime, rate_limit_per_minute=0)) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        yield client


@pytest.fixture
async def worlds(runtime: Runtime, tenant: str, http: httpx.AsyncClient) -> Worlds:
    a, b = tenant, f"{tenant}-b"
    world_a = await build_world(runtime.session_factory, a, A_SPECS)
    world_b = await build_world(runtime.session_factory, b, B_SPECS)
    await _b_only_rows(runtime, b)
    for job in [*world_a.jobs, *world_b.jobs]:
        await add_details(runtime.session_factory, job, steps=2, logs=3)
    b_token = await token_for(runtime, Role.ADMIN, tenant=b)
    seen = await _ask(
        http,
        b_token,
        "{ jobs(first: 100) { edges { cursor node { id workflow { id } agent { id } } } } "
        "agents(first: 100) { edges { node { id } } } "
        "workflows(first: 100) { edges { node { id } } } }",
    )
    data = seen["data"]
    b_ids = {value for key, value in _items(data) if key == "id"}
    return Worlds(
        a=a,
        b=b,
        a_token=await token_for(runtime, Role.ADMIN, tenant=a),
        b_token=b_token,
        b_ids=b_ids,
        b_numbers={job.number for job in world_b.jobs},
        b_cursor=data["jobs"]["edges"][2]["cursor"],
    )


async def _ask(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_every_contract_operation_is_covered() -> None:
    contract = parse_sdl(CONTRACT.read_text())
    roots = {
        "Query": set(QUERIES),
        "Mutation": {*MUTATIONS, "cancelJobs", "dispatchJob"},
        "Subscription": set(SUBSCRIPTIONS),
    }
    for root, covered in roots.items():
        root_type = contract.get_type(root)
        assert root_type is not None
        assert set(root_type.fields) == covered, root  # type: ignore[attr-defined]


async def test_queries_see_only_their_tenant(http: httpx.AsyncClient, worlds: Worlds) -> None:
    finder = LeakFinder(worlds)
    answers: dict[str, Any] = {}
    for field, queries in QUERIES.items():
        for query in queries:
            if field == "node":
                for global_id in worlds.b_ids:
                    body = await _ask(http, worlds.a_token, query, id=global_id)
                    assert body["data"] == {"node": None}, body
                    finder.check(f"node({global_id})", body)
            elif field == "job":
                for number in worlds.b_numbers:
                    body = await _ask(http, worlds.a_token, query, number=number)
                    assert body["data"] == {"job": None}, body
                    finder.check(f"job({number})", body)
            else:
                body = await _ask(http, worlds.a_token, query, after=worlds.b_cursor)
                finder.check(field, body)
                answers[query] = body["data"]

    # every count is A's alone: a row of B counted anywhere shows here
    assert {query: _totals(data) for query, data in answers.items()} == A_TOTALS
    options = answers[QUERIES["jobFilterOptions"][0]]["jobFilterOptions"]
    assert [w["slug"] for w in options["workflows"]] == ["se-rca-fix"]  # those A's jobs use
    assert [a["name"] for a in options["agents"]] == ["agent-01"]
    assert finder.checked == len(worlds.b_ids) + len(worlds.b_numbers) + len(answers)
    assert finder.leaks == []


async def test_mutations_cannot_reach_another_tenant(
    runtime: Runtime, http: httpx.AsyncClient, worlds: Worlds
) -> None:
    finder = LeakFinder(worlds)
    before = await _snapshot(runtime, worlds.b)
    b_jobs = sorted(i for i in worlds.b_ids if _type_of(i) == "Job")

    for name, mutation in MUTATIONS.items():
        for global_id in b_jobs:
            body = await _ask(http, worlds.a_token, mutation, id=global_id)
            payload = body["data"][name]
            assert payload["job"] is None
            assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"], payload
            finder.check(f"{name}({global_id})", body)
    many = await _ask(http, worlds.a_token, CANCEL_MANY_IDS, ids=b_jobs)
    assert {e["code"] for e in many["data"]["cancelJobs"]["errors"]} == {"NOT_FOUND"}
    finder.check("cancelJobs(ids)", many)
    everything = await _ask(http, worlds.a_token, CANCEL_MANY_FILTER)
    assert everything["data"]["cancelJobs"]["jobs"]
    finder.check("cancelJobs(filter)", everything)
    for field, name in (("workflow", B_ONLY[0]), ("agent", B_ONLY[1])):
        # B's names, echoed back in the error, must get the answer a name nobody has gets.
        answers = [
            await _ask(http, worlds.a_token, DISPATCH, input={"workflow": "se-rca-fix", field: n})
            for n in (name, NOBODY)
        ]
        assert answers[0] == json.loads(json.dumps(answers[1]).replace(NOBODY, name))
        assert answers[0]["data"]["dispatchJob"]["errors"]
    same_key = {"workflow": "se-rca-fix", "idempotencyKey": "shared-key"}
    finder.check("dispatchJob(key)", await _ask(http, worlds.a_token, DISPATCH, input=same_key))

    assert await _snapshot(runtime, worlds.b) == before
    assert finder.leaks == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_and_replays_see_only_their_tenant(
    server: LiveServer, http: httpx.AsyncClient, worlds: Worlds, protocol: str
) -> None:
    finder = LeakFinder(worlds)
    b_job = sorted(i for i in worlds.b_ids if _type_of(i) == "Job")[0]
    a_jobs = await _ask(http, worlds.a_token, "{ jobs { edges { node { id status } } } }")
    a_running = next(
        edge["node"]["id"]
        for edge in a_jobs["data"]["jobs"]["edges"]
        if edge["node"]["status"] == "RUNNING"
    )
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {worlds.a_token}"})
        for name in ("jobUpdated", "jobLogs"):
            await ws.subscribe(name, SUBSCRIPTIONS[name], id=b_job)
            refused = await _until_done(ws)
            codes = {e["extensions"]["code"] for f in refused for e in _errors_of(f)}
            assert codes == {"NOT_FOUND"}, refused
            finder.check(name, refused)
        await ws.subscribe("jobCounts", SUBSCRIPTIONS["jobCounts"])
        counts = await ws.next("jobCounts")
        assert counts["jobCounts"]["all"] == len(A_SPECS)
        finder.check("jobCounts", counts)
        await ws.subscribe("jobStatusChanged", SUBSCRIPTIONS["jobStatusChanged"])
        replayed = [await ws.next("jobStatusChanged") for _ in A_SPECS]
        finder.check("jobStatusChanged replay", replayed)

        await _ask(http, worlds.b_token, MUTATIONS["cancelJob"], id=b_job)
        await _ask(http, worlds.a_token, MUTATIONS["cancelJob"], id=a_running)
        live = await ws.next("jobStatusChanged")

    assert live["jobStatusChanged"]["job"]["id"] == a_running
    assert live["jobStatusChanged"]["status"] == "CANCELLED"
    finder.check("jobStatusChanged live", live)
    assert finder.leaks == []


async def _until_done(ws: GraphQLWebSocket) -> list[dict[str, Any]]:
    """The frames of an operation up to its `complete` or `error`."""
    frames = [await ws.receive()]
    while frames[-1]["type"] not in ("complete", "error"):
        frames.append(await ws.receive())
    return frames


def _errors_of(frame: dict[str, Any]) -> list[dict[str, Any]]:
    payload = frame.get("payload")
    if isinstance(payload, list):
        return payload
    return payload.get("errors") or [] if isinstance(payload, dict) else []


def _totals(body: Any, path: str = "") -> dict[str, int]:
    """Every `totalCount` and tab count of an answer, by where it is ("agents/agent-01/jobs")."""
    totals: dict[str, int] = {}
    if isinstance(body, list):
        for item in body:
            totals |= _totals(item, path)
    elif isinstance(body, dict):
        node = body.get("node") if isinstance(body.get("node"), dict) else {}
        name = node.get("name") or node.get("slug")
        for key, value in body.items():
            if key == "totalCount" or (path.endswith("jobCounts") and isinstance(value, int)):
                totals[f"{path}/{key}".lstrip("/")] = value
            elif key not in ("node", "edges"):
                totals |= _totals(value, f"{path}/{key}")
        if name is not None:
            totals |= _totals(node, f"{path}/{name}")
        elif "edges" in body:
            totals |= _totals(body["edges"], path)
    return totals


def _type_of(global_id: str) -> str:
    return GlobalID.from_id(global_id).type_name

"""Property-based fuzzing: random and malformed queries, variables, cursors, global ids, JSON
inputs, request bodies and websocket frames. Every one gets a clear answer (never a 500 or
an INTERNAL error), the server keeps serving, and a rejected request writes nothing."""

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from server.auth import Role
from server.db.models import Job, JobEvent
from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.auth import app_with, bearer, token_for
from tests.support.factories import build_world
from tests.support.graphql import serving
from tests.support.servers import LiveServer, serve
from tests.support.websocket import PROTOCOLS, GraphQLWebSocket, graphql_ws

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLEAR_STATUSES = {200, 400, 405, 413, 415}
PING = "{ jobCounts { all } }"
PAYLOAD = "{ job { id } errors { code } }"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
names = st.sampled_from(
    [
        "jobs",
        "job",
        "node",
        "edges",
        "id",
        "number",
        "__schema",
        "cancelJob",
        "dispatchJob",
        "jobCounts",
        "agents",
        "workflows",
        "totalCount",
        "pageInfo",
        "steps",
        "resentFrom",
    ]
)
tokens = st.sampled_from(["{", "}", "(", ")", ":", "$", "...", "@", "!", "[", "]", "=", '"', " "])
query_ish = st.lists(names | tokens | st.text(max_size=6), max_size=40).map(" ".join)
global_ids = st.one_of(
    st.text(max_size=40),
    st.tuples(
        st.sampled_from(["Job", "Agent", "Workflow", "Query", "", "job"]),
        st.text(max_size=12) | st.integers().map(str),
    ).map(lambda parts: base64.b64encode(f"{parts[0]}:{parts[1]}".encode()).decode()),
)
cursors = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    json_values.map(lambda value: base64.b64encode(json.dumps(value).encode()).decode()),
)


class Fuzzer:
    """Sends one input, checks the answer is clear, and counts what it sent."""

    def __init__(self, http: httpx.AsyncClient, runtime: Runtime, token: str) -> None:
        self.http = http
        self.runtime = runtime
        self.token = token

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post("/graphql", json=body, headers=bearer(self.token))
        return self.clear(response)

    def clear(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in CLEAR_STATUSES, response.text
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            assert response.text.strip(), "an empty refusal"
            return {}
        answer: dict[str, Any] = response.json()
        for error in answer.get("errors") or []:
            assert error["message"]
            assert (error.get("extensions") or {}).get("code") != "INTERNAL", error
        return answer

    async def written(self) -> tuple[int, int, int]:
        async with self.runtime.session_factory() as session:
            tenant = self.runtime.settings.default_tenant
            jobs = await session.scalar(
                select(func.count()).select_from(Job).where(Job.tenant_id == tenant)
            )
            versions = await session.scalar(
                select(func.coalesce(func.sum(Job.version), 0)).where(Job.tenant_id == tenant)
            )
            events = await session.scalar(
                select(func.count()).select_from(JobEvent).where(JobEvent.tenant_id == tenant)
            )
        return int(jobs or 0), int(versions or 0), int(events or 0)

    async def rejected_writes_nothing(self, body: dict[str, Any]) -> None:
        before = await self.written()
        answer = await self.post(body)
        payloads = (answer.get("data") or {}).values()
        rejected = not answer.get("data") or all(
            isinstance(p, dict) and p.get("errors") and not p.get("job") and not p.get("jobs")
            for p in payloads
        )
        if rejected:
            assert await self.written() == before, body

    async def still_serving(self) -> None:
        answer = await self.post({"query": PING})
        assert "jobCounts" in answer["data"]


@pytest.fixture
async def fuzzer(runtime: Runtime, tenant: str) -> AsyncIterator[Fuzzer]:
    await build_world(
        runtime.session_factory,
        tenant,
        [{"status": status} for status in (JobStatus.RUNNING, JobStatus.FAILED, JobStatus.WAITING)],
    )
    token = await token_for(runtime, Role.OPERATOR)
    async with serving(app_with(runtime, rate_limit_per_minute=0)) as http:
        fuzzer = Fuzzer(http, runtime, token)
        yield fuzzer
        await fuzzer.still_serving()


@FUZZ
@given(query=st.text(max_size=200) | query_ish)
async def test_random_documents(fuzzer: Fuzzer, query: str) -> None:
    await fuzzer.rejected_writes_nothing({"query": query})


@FUZZ
@given(
    variables=st.dictionaries(
        st.sampled_from(["first", "after", "last", "before", "filter", "orderBy", "x"]),
        json_values,
        max_size=5,
    )
)
async def test_random_variables(fuzzer: Fuzzer, variables: dict[str, Any]) -> None:
    query = (
        "query($first: Int, $after: String, $last: Int, $before: String, $filter: JobFilter,"
        " $orderBy: JobOrder) { jobs(first: $first, after: $after, last: $last,"
        " before: $before, filter: $filter, orderBy: $orderBy) { totalCount } }"
    )
    await fuzzer.post({"query": query, "variables": variables})


@FUZZ
@given(cursor=cursors, backwards=st.booleans())
async def test_random_cursors(fuzzer: Fuzzer, cursor: str, backwards: bool) -> None:
    query = (
        "query($c: String) { jobs(last: 5, before: $c) { edges { cursor } } }"
        if backwards
        else "query($c: String) { jobs(first: 5, after: $c) { edges { cursor } } }"
    )
    answer = await fuzzer.post({"query": query, "variables": {"c": cursor}})
    for error in answer.get("errors") or []:
        assert error["extensions"]["code"] == "VALIDATION", error


@FUZZ
@given(
    global_id=global_ids,
    mutation=st.sampled_from(["cancelJob", "pauseJob", "resumeJob", "approveJob", "resendJob"]),
)
async def test_random_global_ids(fuzzer: Fuzzer, global_id: str, mutation: str) -> None:
    await fuzzer.post(
        {"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": global_id}}
    )
    await fuzzer.rejected_writes_nothing(
        {
            "query": f"mutation($id: ID!) {{ {mutation}(id: $id) {PAYLOAD} }}",
            "variables": {"id": global_id},
        }
    )


@FUZZ
@given(
    dispatch=st.fixed_dictionaries(
        {"workflow": st.sampled_from(["se-rca-fix", "code-review", "nope"]) | st.text(max_size=10)},
        optional={
            "agent": st.sampled_from(["agent-01", "ghost"]) | st.text(max_size=10),
            "input": json_values,
            "scheduledFor": st.text(max_size=30)
            | st.sampled_from(["2026-01-01T09:00:00", "2026-01-01T09:00:00Z", "yesterday"]),
            "effortLevel": st.sampled_from(["MAX", "LOW", "", "max"]),
            "ticketUrl": st.text(max_size=600),
            "idempotencyKey": st.text(max_size=250),
            "bogus": json_values,
        },
    )
)
async def test_random_dispatch_inputs(fuzzer: Fuzzer, dispatch: dict[str, Any]) -> None:
    await fuzzer.rejected_writes_nothing(
        {
            "query": "mutation($input: DispatchJobInput!) { dispatchJob(input: $input) "
            "{ job { id } errors { code field } } }",
            "variables": {"input": dispatch},
        }
    )


@FUZZ
@given(
    body=st.binary(max_size=300) | json_values.map(lambda value: json.dumps(value).encode()),
    content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]),
)
async def test_random_request_bodies(fuzzer: Fuzzer, body: bytes, content_type: str) -> None:
    response = await fuzzer.http.post(
        "/graphql",
        content=body,
        headers={"Content-Type": content_type, **bearer(fuzzer.token)},
    )
    fuzzer.clear(response)


@pytest.fixture
async def live(runtime: Runtime) -> AsyncIterator[tuple[LiveServer, str]]:
    token = await token_for(runtime, Role.VIEWER)
    async with serve(app_with(runtime, rate_limit_per_minute=0)) as server:
        yield server, token


frames = st.one_of(
    st.text(max_size=100),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "subscribe",
                    "start",
                    "next",
                    "complete",
                    "stop",
                    "ping",
                    "connection_init",
                    "bogus",
                ]
            )
        },
        optional={"id": json_values, "payload": json_values},
    ).map(json.dumps),
)


@settings(FUZZ, max_examples=40)
@given(frame=frames, protocol=st.sampled_from(PROTOCOLS))
async def test_random_websocket_frames(
    live: tuple[LiveServer, str], frame: str, protocol: str
) -> None:
    server, token = live
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {token}"})
        await ws.socket.send(frame)
        await ws.subscribe("probe", "subscription { jobCounts { all } }")
        answer = await _answer_or_close(ws)
    if isinstance(answer, ConnectionClosed):
        assert answer.rcvd is not None
        assert 4400 <= answer.rcvd.code < 4500 or answer.rcvd.code == 1000, answer
    else:
        assert answer["type"] in ("next", "data", "error", "complete"), answer
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {token}"})
        await ws.subscribe("after", "subscription { jobCounts { all } }")
        assert await ws.next("after") == {"jobCounts": {"all": 0}}


async def _answer_or_close(ws: GraphQLWebSocket) -> dict[str, Any] | ConnectionClosed:
    """The first answer that is not a pong (the random frame may have been a ping)."""
    try:
        while (answer := await ws.receive())["type"] == "pong":
            pass
    except ConnectionClosed as closed:
        return closed
    return answer

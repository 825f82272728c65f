"""Property-based fuzzing: random and malformed queries, variables, cursors, global ids, JSON
inputs, request bodies and websocket frames. Every one gets a clear answer (never a 500, and
no INTERNAL error, neither in `errors` nor in a payload's `errors`), the server keeps serving,
a rejected request writes nothing and an accepted one writes what its answer says, and each
websocket frame gets the answer its protocol prescribes."""

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from strawberry.relay import GlobalID
from websockets.exceptions import ConnectionClosed

from server.auth import Role
from server.db.models import Job, JobEvent
from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.auth import app_with, bearer, token_for
from tests.support.factories import build_world
from tests.support.graphql import serving
from tests.support.servers import LiveServer, serve
from tests.support.websocket import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, GraphQLWebSocket, graphql_ws

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
        st.text(max_size=12)
        | st.integers().map(str)
        | st.sampled_from(["99999999999999999999999", str(2**63), str(-(2**63) - 1), "0"]),
    ).map(lambda parts: base64.b64encode(f"{parts[0]}:{parts[1]}".encode()).decode()),
)
cursors = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    json_values.map(lambda value: base64.b64encode(json.dumps(value).encode()).decode()),
)


@dataclass(frozen=True)
class Written:
    """What the tenant's jobs hold: their numbers, the sum of their versions, their events."""

    numbers: frozenset[int]
    versions: int
    events: int


def _payload_codes(data: Any) -> list[str]:
    """The codes of every `errors` list of mutation payloads in `data`."""
    if isinstance(data, list):
        return [code for item in data for code in _payload_codes(item)]
    if not isinstance(data, dict):
        return []
    codes = [
        error["code"]
        for error in data.get("errors") or []
        if isinstance(error, dict) and "code" in error
    ]
    return codes + [code for value in data.values() for code in _payload_codes(value)]


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
        for code in _payload_codes(answer.get("data")):
            assert code != "INTERNAL", answer
        return answer

    async def written(self) -> Written:
        tenant = self.runtime.settings.default_tenant
        async with self.runtime.session_factory() as session:
            numbers = await session.scalars(select(Job.number).where(Job.tenant_id == tenant))
            versions = await session.scalar(
                select(func.coalesce(func.sum(Job.version), 0)).where(Job.tenant_id == tenant)
            )
            events = await session.scalar(
                select(func.count()).select_from(JobEvent).where(JobEvent.tenant_id == tenant)
            )
        return Written(frozenset(numbers), int(versions or 0), int(events or 0))

    async def writes_nothing(self, body: dict[str, Any]) -> None:
        before = await self.written()
        await self.post(body)
        assert await self.written() == before, body

    async def writes_what_it_answers(self, body: dict[str, Any], mutation: str) -> None:
        """A refused mutation writes nothing; an accepted one writes exactly its answer: a new
        job for a dispatch (none when its idempotency key named an existing one) or a resend,
        and one status event for each job it moved."""
        before = await self.written()
        payload = ((await self.post(body)).get("data") or {}).get(mutation)
        after = await self.written()
        job = payload.get("job") if isinstance(payload, dict) else None
        if not job:
            assert after == before, (body, payload)
            return
        number = int(GlobalID.from_id(job["id"]).node_id)
        if mutation == "dispatchJob" and number in before.numbers:
            assert after == before, (body, payload)
        elif mutation in ("dispatchJob", "resendJob"):
            assert after.numbers == before.numbers | {number}, (body, payload)
            assert after.events == before.events + 1, (body, payload)
        else:
            assert after.numbers == before.numbers, (body, payload)
            assert after.events == before.events + 1, (body, payload)
            assert after.versions == before.versions + 1, (body, payload)

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
    await fuzzer.writes_nothing({"query": query})


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
    await fuzzer.writes_what_it_answers(
        {
            "query": f"mutation($id: ID!) {{ {mutation}(id: $id) {PAYLOAD} }}",
            "variables": {"id": global_id},
        },
        mutation,
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
    await fuzzer.writes_what_it_answers(
        {
            "query": "mutation($input: DispatchJobInput!) { dispatchJob(input: $input) "
            "{ job { id } errors { code field } } }",
            "variables": {"input": dispatch},
        },
        "dispatchJob",
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
    # given an admitted connection that receives the frame, then a subscription
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {token}"})
        await ws.socket.send(frame)
        outcome = await _probe(ws)
    # then the connection is closed with the code its protocol prescribes, or it goes on
    # serving and the subscription answers
    assert outcome == (expected_close(frame, protocol) or PROBE_ANSWER), frame
    # and the server serves the next connection
    async with graphql_ws(server.ws_url, protocol, init=False) as ws:
        await ws.init({"Authorization": f"Bearer {token}"})
        await ws.subscribe("after", PROBE)
        assert await ws.next("after") == PROBE_ANSWER


PROBE = "subscription { jobCounts { all } }"
PROBE_ANSWER = {"jobCounts": {"all": 0}}
START = {TRANSPORT_WS: "subscribe", LEGACY_WS: "start"}
STOP = {TRANSPORT_WS: "complete", LEGACY_WS: "stop"}


def expected_close(frame: str, protocol: str) -> int | None:
    """The close code a frame sent after `connection_ack` must get, or None when the
    connection must go on (graphql-transport-ws numbering, used for both protocols):
    4400 for what is not a message of the protocol, 4429 for a second init, 4409 for a
    subscription id in use; the legacy protocol ignores a second init and restarts an id."""
    try:
        message = orjson.loads(frame)
        kind = message["type"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return 4400
    if kind == "connection_init":
        return 4429 if protocol == TRANSPORT_WS else None
    if kind == STOP[protocol] or kind == "pong" or (kind == "ping" and protocol == TRANSPORT_WS):
        return None
    if kind != START[protocol]:
        return 4400
    operation_id, payload = message.get("id"), message.get("payload")
    if not isinstance(operation_id, str) or not isinstance(payload, dict):
        return 4400
    variables, name = payload.get("variables") or {}, payload.get("operationName")
    if not isinstance(payload.get("query"), str) or not isinstance(variables, dict):
        return 4400
    if name is not None and not isinstance(name, str):
        return 4400
    return 4409 if operation_id == "probe" and protocol == TRANSPORT_WS else None


async def _probe(ws: GraphQLWebSocket) -> int | dict[str, Any]:
    """Subscribe as "probe": its first data, or the code the server closed with. Frames of
    other operations (the random one) may come first; none may be an INTERNAL error."""
    try:
        await ws.subscribe("probe", PROBE)
        while True:
            message = await ws.receive()
            payload = message.get("payload")
            errors = payload if isinstance(payload, list) else (payload or {}).get("errors")
            for error in errors or []:
                assert (error.get("extensions") or {}).get("code") != "INTERNAL", message
            if message.get("id") == "probe" and message["type"] in ("next", "data"):
                data: dict[str, Any] = payload["data"]
                return data
    except ConnectionClosed as closed:
        received = closed.rcvd
    if received is None:
        raise AssertionError("the connection ended without a close frame")
    return received.code

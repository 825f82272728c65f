"""Bearer tokens: who may read, who may act, in which tenant."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from server.auth import Role
from server.auth.store import create_token, revoke_token
from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.auth import app_with, post, token_for
from tests.support.factories import build_world, stored_job
from tests.support.graphql import serving

JOBS = "{ jobs { totalCount edges { node { id number status } } } }"
CANCEL = """
mutation Cancel($id: ID!) {
  cancelJob(id: $id) { job { number status events { actor } } errors { code message } }
}
"""
DISPATCH = """
mutation { dispatchJob(input: {workflow: "se-rca-fix"}) { job { number } errors { code } } }
"""


@pytest.fixture
async def authed_client(authed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(authed_app) as http:
        yield http


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer jm_" + "x" * 43],
)
async def test_requests_without_a_valid_token_are_refused(
    authed_client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}

    response = await authed_client.post("/graphql", json={"query": JOBS}, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_viewer_reads_but_may_not_act(
    authed_runtime: Runtime, authed_client: httpx.AsyncClient, tenant: str
) -> None:
    world = await build_world(
        authed_runtime.session_factory, tenant, [{"status": JobStatus.RUNNING}]
    )
    viewer = await token_for(authed_runtime, Role.VIEWER)

    page = (await post(authed_client, JOBS, viewer)).json()["data"]["jobs"]
    job_id = page["edges"][0]["node"]["id"]
    cancelled = (await post(authed_client, CANCEL, viewer, id=job_id)).json()["data"]
    dispatched = (await post(authed_client, DISPATCH, viewer)).json()["data"]

    assert page["totalCount"] == 1
    assert cancelled["cancelJob"]["job"] is None
    assert [e["code"] for e in cancelled["cancelJob"]["errors"]] == ["FORBIDDEN"]
    assert dispatched["dispatchJob"]["errors"] == [{"code": "FORBIDDEN"}]
    after = (await post(authed_client, JOBS, viewer)).json()["data"]["jobs"]
    assert after["totalCount"] == 1
    assert after["edges"][0]["node"]["status"] == "RUNNING"
    stored = await stored_job(authed_runtime, world.jobs[0].number)
    assert (stored.status, stored.version, stored.events) == (JobStatus.RUNNING, 1, 0)


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_operators_and_admins_act_under_their_token_name(
    authed_runtime: Runtime, authed_client: httpx.AsyncClient, tenant: str, role: Role
) -> None:
    await build_world(authed_runtime.session_factory, tenant, [{"status": JobStatus.RUNNING}])
    issued = await create_token(
        authed_runtime.session_factory, tenant=tenant, role=role, name="night-shift"
    )
    page = (await post(authed_client, JOBS, issued.token)).json()["data"]["jobs"]

    body = (
        await post(authed_client, CANCEL, issued.token, id=page["edges"][0]["node"]["id"])
    ).json()

    payload = body["data"]["cancelJob"]
    assert payload["errors"] == []
    assert payload["job"]["status"] == "CANCELLED"
    assert payload["job"]["events"][-1]["actor"] == "night-shift"


async def test_the_tenant_comes_from_the_token(
    authed_runtime: Runtime, authed_client: httpx.AsyncClient, tenant: str
) -> None:
    other = f"{tenant}-other"
    await build_world(authed_runtime.session_factory, tenant, [{}])
    await build_world(authed_runtime.session_factory, other, [{}, {}, {}])

    mine = await post(authed_client, JOBS, await token_for(authed_runtime, Role.VIEWER))
    theirs = await post(
        authed_client, JOBS, await token_for(authed_runtime, Role.VIEWER, tenant=other)
    )

    assert mine.json()["data"]["jobs"]["totalCount"] == 1
    assert theirs.json()["data"]["jobs"]["totalCount"] == 3


async def test_a_revoked_token_stops_working(authed_runtime: Runtime, tenant: str) -> None:
    issued = await create_token(authed_runtime.session_factory, tenant=tenant, role=Role.VIEWER)
    async with serving(app_with(authed_runtime, token_cache_seconds=0)) as http:
        before = await post(http, JOBS, issued.token)
        await revoke_token(authed_runtime.session_factory, authed_runtime.bus, token_id=issued.id)
        after = await post(http, JOBS, issued.token)

    assert before.status_code == 200
    assert after.status_code == 401


async def test_the_rate_limit_is_per_token_with_a_clear_error(
    authed_runtime: Runtime,
) -> None:
    first = await token_for(authed_runtime, Role.VIEWER)
    second = await token_for(authed_runtime, Role.VIEWER)
    app = app_with(authed_runtime, rate_limit_per_minute=6, rate_limit_burst=2)
    async with serving(app) as http:
        allowed = [(await post(http, JOBS, first)).status_code for _ in range(2)]
        limited = await post(http, JOBS, first)
        other = await post(http, JOBS, second)

    assert allowed == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "10"
    error = limited.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "6 requests a minute" in error["message"]
    assert other.status_code == 200


async def test_graphiql_page_loads_without_a_token_but_queries_do_not(runtime: Runtime) -> None:
    async with serving(app_with(runtime, graphiql=True)) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        query = await http.get(
            "/graphql", params={"query": JOBS}, headers={"Accept": "application/json"}
        )

    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert query.status_code == 401


async def test_with_auth_disabled_no_token_is_needed(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": JOBS})

    assert response.status_code == 200
    assert response.json()["data"]["jobs"]["totalCount"] == 0


async def test_tokens_are_stored_hashed(authed_runtime: Runtime, tenant: str) -> None:
    issued = await create_token(authed_runtime.session_factory, tenant=tenant, role=Role.ADMIN)
    async with authed_runtime.engine.connect() as connection:
        stored = (
            await connection.exec_driver_sql(
                f"SELECT digest FROM api_tokens WHERE id = {issued.id}"
            )
        ).scalar_one()

    assert issued.token.startswith("jm_")
    assert issued.token not in stored
    assert len(stored) == 64


async def test_bearer_scheme_is_case_insensitive(
    authed_runtime: Runtime, authed_client: httpx.AsyncClient
) -> None:
    token = await token_for(authed_runtime, Role.VIEWER)

    response = await authed_client.post(
        "/graphql", json={"query": JOBS}, headers={"authorization": f"bearer {token}"}
    )

    assert response.status_code == 200

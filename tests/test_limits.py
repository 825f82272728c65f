"""Limits on what one request may ask for, masked errors, and the HTTP switches."""

import pytest

from dataloaders.lists import ListReader
from server.auth import Role
from server.runtime import Runtime
from tests.support.auth import app_with, bearer, post, token_for
from tests.support.factories import build_world
from tests.support.graphql import serving

JOBS = "{ jobs { totalCount } }"
DISPATCH = 'mutation { dispatchJob(input: {workflow: "se-rca-fix"}) { job { number } } }'


def deep_query(depth: int) -> str:
    """`job { resentFrom { ... { number } } }`, `depth` levels below the root field."""
    return "{ job(number: 1) { " + "resentFrom { " * (depth - 1) + "number" + " }" * (depth + 1)


async def errors_of(runtime: Runtime, query: str, **settings: object) -> list[dict[str, object]]:
    token = await token_for(runtime, Role.VIEWER)
    async with serving(app_with(runtime, **settings)) as http:
        response = await post(http, query, token)
    assert response.status_code == 200, response.text
    errors: list[dict[str, object]] = response.json().get("errors") or []
    return errors


async def test_depth_limit(runtime: Runtime) -> None:
    assert await errors_of(runtime, deep_query(5), max_query_depth=5) == []
    too_deep = await errors_of(runtime, deep_query(6), max_query_depth=5)
    assert "exceeds maximum operation depth of 5" in str(too_deep[0]["message"])


async def test_alias_limit(runtime: Runtime) -> None:
    aliases = " ".join(f"a{n}: jobCounts {{ all }}" for n in range(4))

    assert await errors_of(runtime, f"{{ {aliases} }}", max_aliases=4) == []
    too_many = await errors_of(runtime, f"{{ {aliases} b: jobCounts {{ all }} }}", max_aliases=4)
    assert too_many[0]["message"] == "5 aliases found. Allowed: 4"


async def test_token_limit(runtime: Runtime) -> None:
    fields = " ".join(["totalCount"] * 60)

    too_long = await errors_of(runtime, f"{{ jobs {{ {fields} }} }}", max_query_tokens=50)

    assert "more than 50 tokens" in str(too_long[0]["message"])


async def test_page_size_cap(runtime: Runtime) -> None:
    errors = await errors_of(runtime, "{ jobs(first: 101) { totalCount } }")

    assert errors[0]["extensions"] == {"code": "VALIDATION", "field": "first"}


async def test_request_body_size_cap(runtime: Runtime, tenant: str) -> None:
    token = await token_for(runtime, Role.OPERATOR)
    await build_world(runtime.session_factory, tenant, [])
    big = "x" * 5000
    async with serving(app_with(runtime, max_body_bytes=4096)) as http:
        refused = await post(http, DISPATCH, token, padding=big)
        counted = await post(http, JOBS, token)

    assert refused.status_code == 413
    assert refused.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert counted.json()["data"]["jobs"]["totalCount"] == 0


async def test_execution_timeout(runtime: Runtime) -> None:
    errors = await errors_of(runtime, JOBS, execution_timeout_seconds=1e-9)

    assert errors[0]["extensions"] == {"code": "TIMEOUT"}


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_self: ListReader) -> None:
        raise RuntimeError("SELECT secret FROM api_tokens")

    monkeypatch.setattr(ListReader, "filter_options", broken)
    token = await token_for(runtime, Role.VIEWER)
    async with serving(app_with(runtime)) as http:
        response = await post(http, "{ jobFilterOptions { agents { name } } }", token)

    request_id = response.headers["X-Request-ID"]
    error = response.json()["errors"][0]
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert request_id in error["message"]
    logged = [r for r in caplog.records if r.name == "jobmonitor.errors"]
    assert request_id in logged[0].getMessage()
    assert logged[0].exc_info is not None
    assert "SELECT secret" in str(logged[0].exc_info[1])


async def test_errors_are_shown_when_masking_is_off(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_self: ListReader) -> None:
        raise RuntimeError("plain")

    monkeypatch.setattr(ListReader, "filter_options", broken)

    errors = await errors_of(runtime, "{ jobFilterOptions { agents { name } } }", mask_errors=False)

    assert errors[0]["message"] == "plain"


@pytest.mark.parametrize("introspection", [True, False])
async def test_introspection_switch(runtime: Runtime, introspection: bool) -> None:
    errors = await errors_of(
        runtime, "{ __schema { queryType { name } } }", introspection=introspection
    )

    assert (errors == []) is introspection


@pytest.mark.parametrize("graphiql", [True, False])
async def test_graphiql_switch(runtime: Runtime, graphiql: bool) -> None:
    async with serving(app_with(runtime, graphiql=graphiql)) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == (200 if graphiql else 404)


async def test_cors_allows_only_the_configured_origins(runtime: Runtime) -> None:
    app = app_with(runtime, cors_origins=["https://ops.example"])
    preflight = {"Access-Control-Request-Method": "POST"}
    async with serving(app) as http:
        allowed = await http.options(
            "/graphql", headers={"Origin": "https://ops.example", **preflight}
        )
        other = await http.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )

    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    assert "access-control-allow-origin" not in other.headers


async def test_no_mutation_over_get(runtime: Runtime, tenant: str) -> None:
    await build_world(runtime.session_factory, tenant, [])
    token = await token_for(runtime, Role.ADMIN)
    async with serving(app_with(runtime)) as http:
        refused = await http.get("/graphql", params={"query": DISPATCH}, headers=bearer(token))
        counted = await post(http, JOBS, token)
        query_over_get = await http.get("/graphql", params={"query": JOBS}, headers=bearer(token))

    assert refused.status_code in (400, 405)
    assert counted.json()["data"]["jobs"]["totalCount"] == 0
    assert query_over_get.json() == {"data": {"jobs": {"totalCount": 0}}}

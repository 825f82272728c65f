"""Smaller hardening: browser tools off under `serve`, unknown tokens remembered, global ids
beyond any key, ticket links, and what a step command inherits."""

from dataclasses import replace
from pathlib import Path

import pytest
from strawberry.relay import to_base64

from server.app import create_app
from server.auth import Role
from server.auth.authenticator import Authenticator
from server.cli import dev
from server.runtime import Runtime
from server.temporal.contracts import JobContext
from server.temporal.step_process import inherited_environment, step_environment
from tests.support.auth import app_with, post, token_for
from tests.support.graphql import GraphQLClient, serving
from tests.support.jobs import given_workflows

INTROSPECTION = "{ __schema { queryType { name } } }"
HUGE_ID = to_base64("Job", "99999999999999999999999")
NODE = "query($id: ID!) { node(id: $id) { id } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { number } errors { code field } } }"
DISPATCH = """
mutation($url: String) {
  dispatchJob(input: {workflow: "se-rca-fix", ticketUrl: $url}) {
    job { ticketUrl } errors { code field }
  }
}
"""


async def test_serve_keeps_graphiql_introspection_and_api_docs_off_by_default(
    runtime: Runtime,
) -> None:
    token = await token_for(runtime, Role.VIEWER)
    async with serving(app_with(runtime)) as http:
        ide = await http.get("/graphql", headers={"Accept": "text/html"})
        docs = [(await http.get(path)).status_code for path in ("/docs", "/openapi.json")]
        introspection = await post(http, INTROSPECTION, token)

    assert ide.status_code == 404
    assert docs == [404, 404]
    assert introspection.json()["errors"]


async def test_dev_turns_the_browser_tools_on(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AUTH", "GRAPHIQL", "INTROSPECTION", "API_DOCS"):
        monkeypatch.delenv(f"JOBMONITOR_{name}", raising=False)
    settings = dev.dev_settings()
    changed = {name: getattr(settings, name) for name in dev.DEV_DEFAULTS}
    served = replace(runtime, settings=runtime.settings.model_copy(update=changed))
    async with serving(create_app(runtime=served)) as http:
        ide = await http.get("/graphql", headers={"Accept": "text/html"})
        docs = await http.get("/docs")
        introspection = await http.post("/graphql", json={"query": INTROSPECTION})

    assert (ide.status_code, docs.status_code) == (200, 200)
    assert introspection.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_an_unknown_token_is_looked_up_once_while_remembered(
    runtime: Runtime, sql_statements: list[str]
) -> None:
    authenticator = Authenticator(runtime.session_factory, ttl=60)
    unknown = "jm_" + "A" * 43

    answers = [await authenticator.principal(unknown) for _ in range(5)]

    assert answers == [None] * 5
    assert len([s for s in sql_statements if "api_tokens" in s]) == 1


async def test_a_global_id_beyond_any_key_names_nothing(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await given_workflows(runtime, tenant)

    node = await gql.execute(NODE, id=HUGE_ID)
    cancelled = await gql.execute(CANCEL, id=HUGE_ID)

    assert node == {"node": None}
    assert cancelled["cancelJob"] == {"job": None, "errors": [{"code": "NOT_FOUND", "field": "id"}]}


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://tickets.example/browse/OPS-1", True),
        ("http://tickets.example/OPS-2", True),
        ("javascript:alert(document.cookie)", False),
        ("data:text/html,<script>x</script>", False),
        ("//tickets.example/OPS-3", False),
        ("https://", False),
    ],
)
async def test_ticket_links_are_http_or_https(
    runtime: Runtime, tenant: str, url: str, accepted: bool
) -> None:
    await given_workflows(runtime, tenant)
    token = await token_for(runtime, Role.OPERATOR)
    async with serving(app_with(runtime)) as http:
        body = (await post(http, DISPATCH, token, url=url)).json()

    payload = body["data"]["dispatchJob"]
    if accepted:
        assert payload == {"job": {"ticketUrl": url}, "errors": []}
    else:
        assert payload == {"job": None, "errors": [{"code": "VALIDATION", "field": "ticketUrl"}]}


def test_a_step_inherits_only_the_listed_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", "postgresql://secret@db/jobs")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("PROXY_URL", "http://proxy")
    monkeypatch.setenv("JOBMONITOR_STEP_ENV_PASS", "PROXY_URL, JOBMONITOR_DATABASE_URL")

    env = step_environment(
        job_number=7,
        job_input={},
        context=JobContext(source="MANUAL"),
        workspace=tmp_path,
        output_file=tmp_path / "out.json",
        artifacts=tmp_path / "artifacts",
    )

    assert "JOBMONITOR_DATABASE_URL" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["PROXY_URL"] == "http://proxy"
    assert env["PATH"]
    assert env["JOB_NUMBER"] == "7"


def test_the_inherited_environment_is_the_allow_list() -> None:
    environ = {"PATH": "/bin", "HOME": "/root", "OTHER": "x", "JOBMONITOR_AUTH": "disabled"}

    assert inherited_environment(environ) == {"PATH": "/bin", "HOME": "/root"}

"""Webhooks in: a signed Jira delivery dispatches one job with its trigger; a bad signature, a
replay, an oversize body, an unknown source and a source over its rate dispatch nothing. Over
real HTTP on 127.0.0.1, on both databases."""

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from typer.testing import CliRunner

from server.app import create_app
from server.cli import app as cli
from server.db.models import Job
from server.domain.automations import AutomationError, parse_automations
from server.domain.signing import SIGNATURE_HEADER, signature
from server.runtime import Runtime
from server.workflows.automation_files import read_automations
from tests.support.factories import build_world
from tests.support.servers import serve

SECRET = "jira-hook-secret"
JIRA_PAYLOAD = (Path(__file__).parent / "data" / "jira_issue_updated.json").read_bytes()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "automations"

JOB = """
query Job($number: Int!) {
  job(number: $number) {
    source hint ticketKey ticketUrl
    workflow { slug }
    trigger { ticketUrl project assignee status issueKey issueType }
    automation { name source workflow { slug } triggeredCount }
  }
}
"""
AUTOMATIONS = """
{ automations { name source enabled triggeredCount lastTriggeredAt workflow { slug } } }
"""


@pytest.fixture
async def hooks(runtime: Runtime, tenant: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API on uvicorn with a `jira` and an `alerts` source, the example automations
    loaded, and a client that talks to it over 127.0.0.1."""
    await build_world(runtime.session_factory, tenant, [])
    await runtime.automations.save(tenant=tenant, definitions=read_automations([EXAMPLES]))
    settings = runtime.settings.model_copy(
        update={
            "hook_secrets": {"jira": SecretStr(SECRET), "alerts": SecretStr("alerts-secret")},
            "hook_rate_burst": 5,
            "hook_rate_per_minute": 1,
        }
    )
    app = create_app(runtime=replace(runtime, settings=settings))
    async with serve(app) as server, httpx.AsyncClient(base_url=server.http_url) as http:
        yield http


async def post_hook(
    http: httpx.AsyncClient,
    source: str,
    body: bytes,
    *,
    secret: str = SECRET,
    delivery: str | None = None,
) -> httpx.Response:
    headers = {SIGNATURE_HEADER: signature(secret, body), "Content-Type": "application/json"}
    if delivery is not None:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return await http.post(f"/hooks/{source}", content=body, headers=headers)


async def graphql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def job_count(runtime: Runtime, tenant: str) -> int:
    async with runtime.session_factory() as session:
        count = await session.scalar(
            select(func.count()).select_from(Job).where(Job.tenant_id == tenant)
        )
    return int(count or 0)


async def test_a_signed_jira_delivery_dispatches_one_job_with_its_trigger(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str
) -> None:
    response = await post_hook(hooks, "jira", JIRA_PAYLOAD, delivery="d-1")

    assert response.status_code == 202, response.text
    [number] = response.json()["jobs"]
    job = (await graphql(hooks, JOB, number=number))["job"]
    assert job["source"] == "AUTOMATION"
    assert job["hint"] == "Jira webhook: jira:issue_updated"
    assert job["ticketKey"] == "OPS-4711"
    assert job["ticketUrl"] == "https://example.atlassian.net/browse/OPS-4711"
    assert job["trigger"] == {
        "ticketUrl": "https://example.atlassian.net/browse/OPS-4711",
        "project": "OPS",
        "assignee": "5b10ac8d82e05b22cc7d4ef5",
        "status": "In Progress",
        "issueKey": "OPS-4711",
        "issueType": "Bug",
    }
    assert job["automation"] == {
        "name": "ops-bug-in-progress",
        "source": "jira",
        "workflow": {"slug": "se-rca-fix"},
        "triggeredCount": 1,
    }
    automations = (await graphql(hooks, AUTOMATIONS))["automations"]
    by_name = {automation["name"]: automation for automation in automations}
    assert by_name["ops-bug-in-progress"]["triggeredCount"] == 1
    assert by_name["ops-bug-in-progress"]["lastTriggeredAt"] is not None
    assert by_name["alert-fired"]["triggeredCount"] == 0
    assert by_name["alert-fired"]["lastTriggeredAt"] is None
    assert await job_count(runtime, tenant) == 1


async def test_a_generic_source_reads_input_and_trigger_through_its_paths(
    hooks: httpx.AsyncClient,
) -> None:
    body = json.dumps(
        {
            "state": "firing",
            "labels": {"ticket": "OPS-9"},
            "annotations": {"summary": "disk full", "runbook_url": "https://runbooks/disk"},
        }
    ).encode()

    response = await post_hook(hooks, "alerts", body, secret="alerts-secret")

    assert response.status_code == 202, response.text
    [number] = response.json()["jobs"]
    job = (await graphql(hooks, JOB, number=number))["job"]
    assert job["trigger"]["issueKey"] == "OPS-9"
    assert job["trigger"]["status"] == "firing"
    assert job["trigger"]["ticketUrl"] == "https://runbooks/disk"
    assert job["hint"] == "alerts webhook: alert-fired"


async def test_a_payload_no_rule_matches_dispatches_nothing(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str
) -> None:
    payload = json.loads(JIRA_PAYLOAD)
    payload["issue"]["fields"]["status"]["name"] = "Done"

    response = await post_hook(hooks, "jira", json.dumps(payload).encode(), delivery="d-2")

    assert response.status_code == 202
    assert response.json()["jobs"] == []
    assert await job_count(runtime, tenant) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: signature("another-secret", JIRA_PAYLOAD)},
    ],
    ids=["missing", "garbage", "wrong-secret"],
)
async def test_a_delivery_without_a_valid_signature_is_401_and_dispatches_nothing(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str, headers: dict[str, str]
) -> None:
    response = await hooks.post("/hooks/jira", content=JIRA_PAYLOAD, headers=headers)

    assert response.status_code == 401
    assert await job_count(runtime, tenant) == 0


async def test_a_body_changed_after_signing_is_401(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str
) -> None:
    headers = {SIGNATURE_HEADER: signature(SECRET, JIRA_PAYLOAD)}
    tampered = JIRA_PAYLOAD.replace(b"OPS-4711", b"OPS-4712")

    response = await hooks.post("/hooks/jira", content=tampered, headers=headers)

    assert response.status_code == 401
    assert await job_count(runtime, tenant) == 0


async def test_a_replayed_delivery_id_dispatches_once(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str
) -> None:
    first = await post_hook(hooks, "jira", JIRA_PAYLOAD, delivery="d-3")
    again = await post_hook(hooks, "jira", JIRA_PAYLOAD, delivery="d-3")

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"replay": True, "jobs": []}
    assert await job_count(runtime, tenant) == 1


async def test_the_same_issue_and_event_without_an_id_dispatches_once_within_the_window(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str
) -> None:
    first = await post_hook(hooks, "jira", JIRA_PAYLOAD)
    again = await post_hook(hooks, "jira", JIRA_PAYLOAD)
    other = await post_hook(hooks, "jira", JIRA_PAYLOAD.replace(b"OPS-4711", b"OPS-4712"))

    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
    assert await job_count(runtime, tenant) == 2


async def test_a_body_over_one_megabyte_is_413(
    hooks: httpx.AsyncClient, runtime: Runtime, tenant: str
) -> None:
    body = json.dumps({"padding": "x" * (1 << 20)}).encode()

    response = await post_hook(hooks, "jira", body)

    assert response.status_code == 413
    assert await job_count(runtime, tenant) == 0


async def test_an_unknown_source_is_404(hooks: httpx.AsyncClient) -> None:
    response = await post_hook(hooks, "gitlab", JIRA_PAYLOAD)

    assert response.status_code == 404


async def test_a_source_over_its_rate_is_429(hooks: httpx.AsyncClient) -> None:
    # The fixture's burst is 5 a source at one a minute: the sixth in a row waits.
    statuses = [(await post_hook(hooks, "jira", b"{}")).status_code for _ in range(6)]

    assert statuses == [202] * 5 + [429]
    other_source = await post_hook(hooks, "alerts", b"{}", secret="alerts-secret")
    assert other_source.status_code == 202


def test_automation_files_name_the_place_that_is_wrong() -> None:
    with pytest.raises(AutomationError, match=r"automations\[0\].workflow: required"):
        parse_automations({"automations": [{"name": "a", "source": "jira"}]})
    with pytest.raises(AutomationError, match=r"automations\[0\].trigger: unknown fields"):
        parse_automations(
            {"automations": [{"name": "a", "source": "x", "workflow": "w", "trigger": {"t": "a"}}]}
        )


def test_the_load_command_loads_the_examples(
    runtime: Runtime, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", runtime.settings.database_url)
    workflows = Path(__file__).resolve().parent.parent / "examples" / "workflows"
    assert (
        CliRunner().invoke(cli, ["workflows", "load", str(workflows), "--tenant", tenant]).exit_code
        == 0
    )

    result = CliRunner().invoke(cli, ["automations", "load", str(EXAMPLES), "--tenant", tenant])

    assert result.exit_code == 0, result.output
    assert "loaded ops-bug-in-progress (jira -> se-rca-fix)" in result.output


def test_the_load_command_refuses_a_rule_for_a_missing_workflow(
    runtime: Runtime, tenant: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", runtime.settings.database_url)
    (tmp_path / "a.yaml").write_text(
        "automations: [{name: a, source: jira, workflow: no-such-flow}]\n"
    )

    result = CliRunner().invoke(cli, ["automations", "load", str(tmp_path), "--tenant", tenant])

    assert result.exit_code == 1
    assert "workflow 'no-such-flow' does not exist" in result.output

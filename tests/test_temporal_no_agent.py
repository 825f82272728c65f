"""Agents coming and going: a job no agent can take fails with a reason instead of hanging,
and an agent's status follows its process."""

from pathlib import Path

import pytest
from temporalio.client import Client

from server.runtime import Runtime
from server.temporal.agent import AgentIdentity, running_agent
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.temporal import Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane")

AGENTS = "{ agents(first: 10) { edges { node { name hostname status lastSeenAt } } } }"


async def test_without_an_online_agent_the_job_fails_saying_so(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow("slug: lonely\nsteps: [{name: only, run: 'true'}]")

    number = (await dispatch(tgql, workflow="lonely"))["job"]["number"]

    job = await wait_for(tgql, number, status_is("FAILED", "COMPLETED"))
    assert job["status"] == "FAILED"
    assert job["error"] == "no agent is online to run the job"
    assert [e["toStatus"] for e in job["events"]] == ["PENDING", "FAILED"]


async def test_an_agent_is_online_while_it_runs_and_offline_once_stopped(
    temporal_client: Client, temporal_runtime: Runtime, tgql: GraphQLClient, tenant: str
) -> None:
    settings = temporal_runtime.settings
    identity = AgentIdentity(tenant, "short-lived", "h1", settings.temporal_task_queue, Path("."))
    execution = temporal_runtime.execution

    async with running_agent(temporal_client, execution, identity):
        online = (await tgql.execute(AGENTS))["agents"]["edges"]
    offline = (await tgql.execute(AGENTS))["agents"]["edges"]

    assert [edge["node"]["status"] for edge in online] == ["ONLINE"]
    assert online[0]["node"]["hostname"] == "h1"
    assert online[0]["node"]["lastSeenAt"] is not None
    assert [edge["node"]["status"] for edge in offline] == ["OFFLINE"]

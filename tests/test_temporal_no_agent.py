"""Agents coming and going: an agent's status follows its process."""

from pathlib import Path

import pytest
from temporalio.client import Client

from server.runtime import Runtime
from server.temporal.agent import AgentIdentity
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.usefixtures("control_plane")

AGENTS = "{ agents(first: 10) { edges { node { name hostname status lastSeenAt } } } }"


async def test_an_agent_is_online_while_it_runs_and_offline_once_stopped(
    temporal_client: Client, temporal_runtime: Runtime, tgql: GraphQLClient, tenant: str
) -> None:
    settings = temporal_runtime.settings
    identity = AgentIdentity(tenant, "short-lived", "h1", settings.temporal_task_queue, Path("."))

    async with temporal_runtime.running_agent(temporal_client, identity):
        online = (await tgql.execute(AGENTS))["agents"]["edges"]
    offline = (await tgql.execute(AGENTS))["agents"]["edges"]

    assert [edge["node"]["status"] for edge in online] == ["ONLINE"]
    assert online[0]["node"]["hostname"] == "h1"
    assert online[0]["node"]["lastSeenAt"] is not None
    assert [edge["node"]["status"] for edge in offline] == ["OFFLINE"]

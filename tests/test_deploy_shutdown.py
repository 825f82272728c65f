"""Graceful shutdown of an agent: told to stop, it finishes a step that ends within its grace;
a step that outlasts the grace is handed back (not failed, not cancelled) and runs again when
the agent is back. (Processes under SIGTERM: tests/test_deploy_topology.py.)"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client

from server.runtime import Runtime
from server.temporal.agent import AgentIdentity
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.temporal import Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("on_postgresql", "control_plane")
ONE_SLOW_STEP = """
slug: one-slow-step
steps:
  - name: slow
    run: sleep 1.5; echo slept
  - name: after
    run: echo after
"""
JOB_STEPS = """
query Steps($number: Int!) {
  job(number: $number) {
    status
    steps { name status attempt }
    logs(first: 100) { edges { node { message } } }
  }
}
"""
AgentFactory = Callable[[timedelta], AbstractAsyncContextManager[object]]


@pytest.fixture
def agent_with_grace(
    temporal_client: Client, temporal_runtime: Runtime, tenant: str
) -> Callable[[timedelta], AbstractAsyncContextManager[object]]:
    settings = temporal_runtime.settings

    def agent(grace: timedelta) -> AbstractAsyncContextManager[object]:
        identity = AgentIdentity(
            tenant,
            "agent-1",
            None,
            settings.temporal_task_queue,
            settings.workspace_root,
            shutdown_grace=grace,
        )
        return temporal_runtime.running_agent(temporal_client, identity)

    return agent


async def _job(gql: GraphQLClient, number: int) -> dict[str, Any]:
    job: dict[str, Any] = (await gql.execute(JOB_STEPS, number=number))["job"]
    return job


def _slow_step_is(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda job: bool(job.get("steps")) and job["steps"][0]["status"] == status


@asynccontextmanager
async def slow_step_running(
    tgql: GraphQLClient, load_workflow: Loader, agent: AgentFactory, grace: timedelta
) -> AsyncIterator[int]:
    """A job whose slow step runs on an agent with `grace`; the agent is told to stop when
    the block ends."""
    await load_workflow(ONE_SLOW_STEP)
    async with agent(grace):
        number = (await dispatch(tgql, workflow="one-slow-step"))["job"]["number"]
        await wait_for(tgql, number, _slow_step_is("RUNNING"))
        yield number


async def test_an_agent_told_to_stop_finishes_a_step_that_ends_within_its_grace(
    tgql: GraphQLClient, load_workflow: Loader, agent_with_grace: AgentFactory
) -> None:
    # given a step running on an agent with a grace longer than the step
    grace = timedelta(seconds=20)
    async with slow_step_running(tgql, load_workflow, agent_with_grace, grace) as number:
        pass  # when the agent is told to stop (the block ends) mid-step

    # then the step had finished by the time the agent stopped
    job = await _job(tgql, number)
    assert job["steps"][0]["status"] == "COMPLETED"
    assert job["status"] == "RUNNING"


async def test_an_agent_hands_back_a_step_that_outlasts_its_grace_and_it_runs_again(
    tgql: GraphQLClient,
    load_workflow: Loader,
    agent_with_grace: AgentFactory,
) -> None:
    # given a step running on an agent whose grace is shorter than the step
    grace = timedelta(seconds=0.2)
    async with slow_step_running(tgql, load_workflow, agent_with_grace, grace) as number:
        pass  # when the agent is told to stop (the block ends) mid-step

    # then the job goes on waiting for its agent, neither failed nor cancelled
    assert (await _job(tgql, number))["status"] == "RUNNING"

    # and once the agent is back, the step runs again and the job completes
    async with agent_with_grace(timedelta(seconds=5)):
        job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED", "CANCELLED"), within=30)
    messages = [edge["node"]["message"] for edge in (await _job(tgql, number))["logs"]["edges"]]
    assert job["status"] == "COMPLETED"
    assert any("handed back" in message for message in messages)
    assert sum("step slow (attempt 1) started" in message for message in messages) == 2

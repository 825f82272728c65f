"""Temporal for the tests: a real dev server for the session, and per test a fresh task queue,
the control-plane worker, one agent and an API wired to that Temporal."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import Client, WorkflowExecutionStatus

from server.app import create_app
from server.runtime import Runtime
from server.temporal.agent import AgentIdentity
from server.temporal.dev_server import dev_server
from server.temporal.orchestrator import TemporalOrchestrator
from server.workflows.definition import parse_workflow
from server.workflows.store import save_workflows
from tests.support.graphql import GraphQLClient, serving
from tests.support.waiting import eventually

AGENT = "agent-1"
Loader = Callable[[str], Awaitable[None]]
JOB = """
query Job($number: Int!) {
  job(number: $number) {
    number status error output currentStep temporalWorkflowId
    agent { name status }
    steps { index name status attempt output error }
    events { fromStatus toStatus actor message }
  }
}
"""


@pytest.fixture(scope="session")
async def temporal_address(database_url: str) -> AsyncIterator[str]:
    """One dev server per database: workflow ids are job numbers, which each database counts
    from 1, and a Temporal namespace belongs to one database."""
    async with dev_server() as address:
        yield address


@pytest.fixture(scope="session")
async def temporal_client(temporal_address: str) -> Client:
    return await Client.connect(temporal_address)


def with_temporal(runtime: Runtime, address: str, workspaces: Path) -> Runtime:
    """`runtime` talking to the Temporal at `address` on a task queue of its own."""
    settings = runtime.settings.model_copy(
        update={
            "temporal_address": address,
            "temporal_task_queue": f"jobs-{uuid.uuid4().hex[:8]}",
            "workspace_root": workspaces,
            "outbox_interval_seconds": 0.2,
            # An agent killed mid-step is noticed this fast (tests/test_temporal_queue.py).
            "agent_heartbeat_timeout_seconds": 4.0,
        }
    )
    return runtime.with_orchestrator(TemporalOrchestrator(settings), settings)


@pytest.fixture
def temporal_runtime(runtime: Runtime, temporal_address: str, tmp_path: Path) -> Runtime:
    """The test's runtime, talking to the dev server on a task queue of its own."""
    return with_temporal(runtime, temporal_address, tmp_path / "workspaces")


@pytest.fixture
async def control_plane(
    temporal_client: Client, temporal_runtime: Runtime, tenant: str
) -> AsyncIterator[None]:
    async with temporal_runtime.running_worker(temporal_client, outbox_tenant=tenant):
        yield


@pytest.fixture
async def agent(
    temporal_client: Client, temporal_runtime: Runtime, tenant: str
) -> AsyncIterator[AgentIdentity]:
    settings = temporal_runtime.settings
    identity = AgentIdentity(
        tenant=tenant,
        name=AGENT,
        hostname="test-host",
        base_task_queue=settings.temporal_task_queue,
        workspace_root=settings.workspace_root,
    )
    async with temporal_runtime.running_agent(temporal_client, identity):
        yield identity


@pytest.fixture
async def tgql(temporal_runtime: Runtime) -> AsyncIterator[GraphQLClient]:
    """GraphQL against the API of `temporal_runtime`."""
    async with serving(create_app(runtime=temporal_runtime)) as http:
        yield GraphQLClient(http)


@pytest.fixture
def load_workflow(temporal_runtime: Runtime, tenant: str) -> Loader:
    async def load(text: str) -> None:
        definition = parse_workflow(yaml.safe_load(text), source=text)
        await save_workflows(
            temporal_runtime.session_factory, tenant=tenant, definitions=[definition]
        )

    return load


async def job_state(gql: GraphQLClient, number: int) -> dict[str, Any]:
    job: dict[str, Any] = (await gql.execute(JOB, number=number))["job"]
    return job


async def wait_for(
    gql: GraphQLClient,
    number: int,
    ready: Callable[[dict[str, Any]], bool],
    *,
    within: float = 20.0,
) -> dict[str, Any]:
    """Poll the job through the API until `ready(job)`; fail with the last state seen."""

    async def reached() -> dict[str, Any]:
        job = await job_state(gql, number)
        assert ready(job), f"job #{number} never got there: {job}"
        return job

    return await eventually(reached, within)


def status_is(*statuses: str) -> Callable[[dict[str, Any]], bool]:
    return lambda job: job["status"] in statuses


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowExecutionStatus]:
    """The status of every run of `workflow_id`, once Temporal's visibility (eventually
    consistent) lists them all as closed. Call it after the workflow's result is in."""

    async def all_closed() -> list[WorkflowExecutionStatus]:
        runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        statuses = [run.status for run in runs if run.status is not None]
        assert runs, f"no run of {workflow_id} is visible yet"
        assert WorkflowExecutionStatus.RUNNING not in statuses, statuses
        return statuses

    return await eventually(all_closed, 10)

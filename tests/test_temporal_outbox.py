"""Temporal outages lose nothing: a dispatched job waits in the outbox and runs once, later;
actions on running jobs are recorded and their signals sent when Temporal is back."""

from pathlib import Path

from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus

from server.app import create_app
from server.db.models import JobOutbox, JobSignalOutbox
from server.net import free_port
from server.runtime import Runtime
from server.services.outbox import GONE_NOTE
from server.temporal.agent import AgentIdentity
from server.temporal.dev_server import dev_server
from server.workflows.definition import parse_workflow
from server.workflows.store import save_workflows
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient, serving
from tests.support.mutations import CANCEL, PAUSE, act, dispatch
from tests.support.temporal import job_state, runs_of, status_is, wait_for, with_temporal

QUICK = parse_workflow({"slug": "quick", "steps": [{"name": "only", "run": "echo hi"}]})


async def test_a_job_dispatched_while_temporal_is_down_runs_once_when_it_is_back(
    runtime: Runtime, tenant: str, tmp_path: Path
) -> None:
    # Given an API whose Temporal is not running
    port = free_port()
    api = with_temporal(runtime, f"127.0.0.1:{port}", tmp_path)
    await save_workflows(api.session_factory, tenant=tenant, definitions=[QUICK])
    async with serving(create_app(runtime=api)) as http:
        gql = GraphQLClient(http)

        # When a job is dispatched
        payload = await dispatch(gql, workflow="quick")

        # Then it is stored, PENDING, with no workflow yet
        assert payload["errors"] == []
        assert payload["job"]["status"] == "PENDING"
        assert payload["job"]["temporalWorkflowId"] is None
        number = payload["job"]["number"]
        assert await api.outbox.deliver_pending(tenant=tenant) == 0

        # And when Temporal comes up, with a worker and an agent
        async with dev_server(port=port) as address:
            client = await Client.connect(address)
            queue = api.settings.temporal_task_queue
            identity = AgentIdentity(tenant, "agent-1", None, queue, tmp_path)
            async with (
                api.running_worker(client, outbox_tenant=tenant),
                api.running_agent(client, identity),
            ):
                # Then the job runs, exactly once
                job = await wait_for(gql, number, status_is("COMPLETED", "FAILED"))
                assert job["status"] == "COMPLETED"
                assert job["temporalWorkflowId"] == f"pipeline-job-{number}"
                moves = [event["toStatus"] for event in job["events"]]
                assert moves == ["PENDING", "RUNNING", "COMPLETED"]
                # and delivering again starts nothing: Temporal holds one run, completed
                assert await api.outbox.deliver_pending(tenant=tenant) == 0
                await api.outbox.deliver(number)
                workflow_id = f"pipeline-job-{number}"
                await client.get_workflow_handle(workflow_id).result()
                assert await runs_of(client, workflow_id) == [WorkflowExecutionStatus.COMPLETED]


async def test_without_temporal_dispatch_waits_and_cancel_works_in_the_database(
    gql: GraphQLClient, runtime: Runtime, tenant: str
) -> None:
    # Given an API with no Temporal address configured
    assert runtime.settings.temporal_address is None
    await save_workflows(runtime.session_factory, tenant=tenant, definitions=[QUICK])

    # When a job is dispatched and then cancelled
    payload = await dispatch(gql, workflow="quick")
    number = payload["job"]["number"]
    cancelled = await act(gql, CANCEL, number)

    # Then the job was stored with no workflow, and the cancellation is recorded and explained
    assert payload["errors"] == []
    assert payload["job"]["temporalWorkflowId"] is None
    assert cancelled == {"job": {"status": "CANCELLED"}, "errors": []}
    job = await job_state(gql, number)
    assert "no workflow in Temporal" in job["events"][-1]["message"]
    # and the outbox settles its row without trying to start it again (its one try was the
    # dispatch's own)
    await runtime.outbox.deliver(number)
    async with runtime.session_factory() as session:
        entry = await session.scalar(select(JobOutbox).where(JobOutbox.job_number == number))
    assert entry is not None
    assert entry.delivered_at is not None
    assert (entry.attempts, entry.last_error) == (1, "the job ended before it started")


async def test_actions_while_temporal_is_down_are_recorded_and_sent_when_it_is_back(
    runtime: Runtime, tenant: str, tmp_path: Path
) -> None:
    # Given a running job whose Temporal is down
    port = free_port()
    api = with_temporal(runtime, f"127.0.0.1:{port}", tmp_path)
    world = await build_world(
        api.session_factory, tenant, [{"status": "RUNNING", "temporal_workflow_id": "pipeline-x"}]
    )
    number = world.jobs[0].number
    async with serving(create_app(runtime=api)) as http:
        gql = GraphQLClient(http)

        # When it is paused, then cancelled
        paused = await act(gql, PAUSE, number)
        cancelled = await act(gql, CANCEL, number)

        # Then both are recorded, and both messages wait in the outbox, in order
        assert paused == {"job": {"status": "PAUSED"}, "errors": []}
        assert cancelled == {"job": {"status": "CANCELLED"}, "errors": []}
        job = await job_state(gql, number)
        assert [event["toStatus"] for event in job["events"]] == ["PAUSED", "CANCELLED"]
    assert await owed(api, number) == ["pause", "cancel"]
    assert await api.outbox.deliver_pending(tenant=tenant) == 0

    # And once Temporal is back, the next round sends them (this workflow never existed)
    async with dev_server(port=port):
        assert await api.outbox.deliver_pending(tenant=tenant) == 2
    assert await owed(api, number) == []
    assert await sent_notes(api, number) == [GONE_NOTE, GONE_NOTE]


async def owed(api: Runtime, number: int) -> list[str]:
    """The messages still owed to the job's workflow, oldest first."""
    async with api.session_factory() as session:
        rows = await session.scalars(
            select(JobSignalOutbox)
            .where(JobSignalOutbox.job_number == number, JobSignalOutbox.delivered_at.is_(None))
            .order_by(JobSignalOutbox.id)
        )
        return [row.signal for row in rows]


async def sent_notes(api: Runtime, number: int) -> list[str | None]:
    async with api.session_factory() as session:
        rows = await session.scalars(
            select(JobSignalOutbox)
            .where(JobSignalOutbox.job_number == number)
            .order_by(JobSignalOutbox.id)
        )
        return [row.last_error for row in rows]

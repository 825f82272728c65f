"""A chain on a real Temporal dev server: the follow-up a workflow's YAML asks for starts once,
even when the worker dies between the parent's end and the follow-up's start and the end is
recorded a second time."""

import signal
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client

from server.domain.enums import JobStatus
from server.runtime import Runtime

from .support.graphql import GraphQLClient
from .support.mutations import dispatch
from .support.temporal import AGENT, Loader, job_state, status_is, wait_for
from .test_temporal_reruns import APPLY, links
from .test_temporal_worker_restart import WorkerProcess

pytestmark = pytest.mark.usefixtures("agent")

PLAN = """
slug: plan
steps:
  - name: plan
    run: |
      echo '{"plan": "p-1", "target": "staging"}' > "$JOB_OUTPUT"
follow_ups:
  - workflow: apply
    when: [COMPLETED]
    agent: same
    input: {from_output: true, target: prod}
  - workflow: apply
    when: [FAILED, CANCELLED]
"""


@pytest.fixture
async def worker(temporal_runtime: Runtime) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(temporal_runtime)
    try:
        yield process
    finally:
        await process.stop()


async def test_a_chain_starts_its_follow_up_once_across_a_worker_killed_before_the_start(
    tgql: GraphQLClient,
    load_workflow: Loader,
    worker: WorkerProcess,
    temporal_client: Client,
    temporal_runtime: Runtime,
    tenant: str,
) -> None:
    # Given a plan whose workflow chains an apply, run by a worker process that delivers no
    # outbox (so nothing starts the follow-up before the worker dies)
    await load_workflow(APPLY)
    await load_workflow(PLAN)
    await worker.start()
    number = (await dispatch(tgql, workflow="plan"))["job"]["number"]
    # (the worker process takes a while to start on a busy machine)
    await wait_for(tgql, number, status_is("COMPLETED"), within=90)

    # When the worker is killed right after the end was recorded
    await worker.stop(signal.SIGKILL)

    # Then the follow-up already exists (made with the end), waiting to be started
    (child,) = [job["number"] for job in (await links(tgql, number))["followUps"]]
    waiting = await job_state(tgql, child)
    assert (waiting["status"], waiting["temporalWorkflowId"]) == ("PENDING", None)

    # When the end is recorded again (a Teardown retried) and a new worker comes up
    await temporal_runtime.execution.finish(
        tenant=tenant, number=number, status=JobStatus.COMPLETED, error=None, agent_name=AGENT
    )
    async with temporal_runtime.running_worker(temporal_client, outbox_tenant=tenant):
        done = await wait_for(tgql, child, status_is("COMPLETED", "FAILED"))

    # Then the one follow-up ran on the plan's agent with the plan's output under its input
    assert done["output"] == {"applied": "p-1", "to": "prod"}
    assert done["agent"]["name"] == AGENT
    assert [job["number"] for job in (await links(tgql, number))["followUps"]] == [child]
    followed = await links(tgql, child)
    assert (followed["parent"], followed["source"]) == ({"number": number}, "FOLLOW_UP")

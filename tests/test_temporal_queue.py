"""The queue: jobs wait, PENDING, for an agent able to run them; agents take no more jobs than
their slots, oldest first; an agent that dies mid-step has its attempt failed and retried on
another. Real Temporal, real `jobmonitor agent` processes where a process matters."""

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from server.db.models import LogLine
from server.domain.enums import AgentStatus, LogStream
from server.runtime import Runtime
from server.temporal.agent import AgentIdentity
from tests.support.agent_process import AgentProcess
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch, global_id
from tests.support.temporal import Loader, status_is, wait_for

pytestmark = pytest.mark.usefixtures("control_plane")

QUEUED = """
query($number: Int!) {
  job(number: $number) {
    status error agent { name } queue { position reason since }
    steps { status attempts { attempt status error agent { name } } }
  }
}
"""
AGENTS = "{ agents(first: 20) { edges { node { name status slots runningJobs workflows } } } }"
RUNNING = "{ jobs(first: 10, filter: {status: [RUNNING]}) { totalCount } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { status } errors { message } } }"
QUICK = "slug: quick\nsteps: [{name: only, run: 'echo done'}]"
SLOW = "slug: slow\nsteps: [{name: nap, run: 'sleep 0.2'}]"
# 100 MB on stdout: 100 000 lines of 1 000 characters.
FLOOD = r"""
slug: flood
steps:
  - name: flood
    run: |
      yes "$(head -c 999 /dev/zero | tr '\0' x)" | head -n 100000
"""


async def queued(gql: GraphQLClient, number: int) -> dict[str, Any]:
    job: dict[str, Any] = (await gql.execute(QUEUED, number=number))["job"]
    return job


async def in_queue(gql: GraphQLClient, number: int) -> dict[str, Any]:
    """The job once its workflow has put it in the queue."""
    async with asyncio.timeout(20):
        while (job := await queued(gql, number))["queue"] is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return job


async def agents(gql: GraphQLClient) -> dict[str, dict[str, Any]]:
    edges = (await gql.execute(AGENTS))["agents"]["edges"]
    return {edge["node"]["name"]: edge["node"] for edge in edges}


@pytest.fixture
async def processes(
    temporal_runtime: Runtime, tenant: str
) -> AsyncIterator[Callable[..., AgentProcess]]:
    """Agent processes of the test, all stopped at its end."""
    started: list[AgentProcess] = []

    def make(name: str, **options: Any) -> AgentProcess:
        process = AgentProcess(temporal_runtime, tenant=tenant, name=name, **options)
        started.append(process)
        return process

    try:
        yield make
    finally:
        for process in started:
            await process.stop()


def identity(runtime: Runtime, tenant: str, name: str, **options: Any) -> AgentIdentity:
    settings = runtime.settings
    return AgentIdentity(
        tenant=tenant,
        name=name,
        hostname="test-host",
        base_task_queue=settings.temporal_task_queue,
        workspace_root=settings.workspace_root,
        **options,
    )


async def test_a_job_waits_while_its_agent_is_offline_then_runs_once_it_starts(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_runtime: Runtime,
    tenant: str,
    processes: Callable[..., AgentProcess],
) -> None:
    # Given an agent that has run before and is offline now
    await load_workflow(QUICK)
    execution = temporal_runtime.execution
    await execution.agent_seen(
        tenant=tenant, name="build-7", hostname=None, status=AgentStatus.OFFLINE
    )

    # When a job is dispatched to it
    number = (await dispatch(tgql, workflow="quick", agent="build-7"))["job"]["number"]

    # Then the job waits, PENDING, first in line, saying for whom
    waiting = await in_queue(tgql, number)
    assert waiting["status"] == "PENDING"
    assert waiting["queue"]["position"] == 1
    assert waiting["queue"]["reason"] == "waiting for agent build-7 (offline)"
    assert waiting["queue"]["since"] is not None
    # and once `jobmonitor agent --name build-7` starts, it runs there and completes
    await processes("build-7").start()
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"), within=40)
    assert job["status"] == "COMPLETED"
    assert job["agent"]["name"] == "build-7"
    assert (await queued(tgql, number))["queue"] is None


async def test_a_waiting_job_fails_clearly_when_its_queue_timeout_passes(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(
        "slug: impatient\nqueue_timeout_seconds: 0.5\nsteps: [{name: s, run: 'true'}]"
    )

    number = (await dispatch(tgql, workflow="impatient"))["job"]["number"]

    job = await wait_for(tgql, number, status_is("FAILED", "COMPLETED"))
    assert job["error"] == (
        "no agent took the job within 0.5 s "
        "(waiting for an agent that runs impatient (none online))"
    )
    assert (await queued(tgql, number))["queue"] is None


async def test_an_agent_never_runs_more_jobs_than_its_slots_and_takes_the_oldest_first(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_client: Client,
    temporal_runtime: Runtime,
    tenant: str,
) -> None:
    # Given five jobs waiting for a free agent
    await load_workflow(SLOW)
    numbers = [(await dispatch(tgql, workflow="slow"))["job"]["number"] for _ in range(5)]
    standing = [(await in_queue(tgql, number))["queue"] for number in numbers]
    assert [entry["position"] for entry in standing] == [1, 2, 3, 4, 5]
    assert standing[0]["reason"] == "waiting for an agent that runs slow (none online)"

    # When an agent with two slots starts
    busiest = 0
    async with temporal_runtime.running_agent(
        temporal_client, identity(temporal_runtime, tenant, "pair", slots=2)
    ):
        async with asyncio.timeout(40):
            while True:
                fleet = await agents(tgql)
                busiest = max(busiest, fleet["pair"]["runningJobs"])
                # One read of the RUNNING jobs (reading them one by one would mix moments).
                assert (await tgql.execute(RUNNING))["jobs"]["totalCount"] <= 2
                jobs = [await queued(tgql, number) for number in numbers]
                if all(job["status"] == "COMPLETED" for job in jobs):
                    break
                await asyncio.sleep(0.05)
        final = (await agents(tgql))["pair"]

    # Then it never ran more than two at once, and took them oldest first
    assert busiest in (1, 2)
    assert (final["slots"], final["runningJobs"], final["workflows"]) == (2, 0, [])
    starts = []
    for number in numbers:
        job = await wait_for(tgql, number, status_is("COMPLETED"))
        starts.append(next(e for e in job["events"] if e["toStatus"] == "RUNNING"))
    assert [event["message"] for event in starts] == ["picked up by pair"] * 5


async def test_an_agent_runs_only_the_workflows_it_declares(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_client: Client,
    temporal_runtime: Runtime,
    tenant: str,
) -> None:
    await load_workflow(QUICK)
    await load_workflow(SLOW)
    picky = identity(temporal_runtime, tenant, "picky", workflows=("quick",))

    async with temporal_runtime.running_agent(temporal_client, picky):
        slow = (await dispatch(tgql, workflow="slow"))["job"]["number"]
        quick = (await dispatch(tgql, workflow="quick"))["job"]["number"]
        done = await wait_for(tgql, quick, status_is("COMPLETED", "FAILED"))
        waiting = await queued(tgql, slow)
        assert (await agents(tgql))["picky"]["workflows"] == ["quick"]

    assert done["status"] == "COMPLETED"
    assert waiting["status"] == "PENDING"
    assert waiting["queue"]["reason"] == "waiting for an agent that runs slow (none online)"


async def test_a_waiting_job_can_be_cancelled(tgql: GraphQLClient, load_workflow: Loader) -> None:
    await load_workflow(QUICK)
    number = (await dispatch(tgql, workflow="quick"))["job"]["number"]
    await in_queue(tgql, number)

    payload = (await tgql.execute(CANCEL, id=await global_id(tgql, number)))["cancelJob"]

    assert payload == {"job": {"status": "CANCELLED"}, "errors": []}
    job = await wait_for(tgql, number, lambda job: job["status"] == "CANCELLED")
    assert [event["toStatus"] for event in job["events"]] == ["PENDING", "CANCELLED"]
    assert (await queued(tgql, number))["queue"] is None


async def test_dispatch_to_an_agent_that_never_started_is_not_found(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(QUICK)

    payload = await dispatch(tgql, workflow="quick", agent="nobody")

    assert payload["job"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("NOT_FOUND", "agent")


async def test_an_agent_killed_mid_step_fails_the_attempt_and_another_agent_retries_it(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_client: Client,
    temporal_runtime: Runtime,
    tenant: str,
    processes: Callable[..., AgentProcess],
    tmp_path: Path,
) -> None:
    # Given two jobs mid-step on an agent process: one step may be retried, the other not
    flag = tmp_path / "tried"
    await load_workflow(
        f"""
slug: second-chance
steps:
  - name: work
    run: if [ -e {flag} ]; then echo again; else touch {flag}; sleep 20; fi
    retries: 1
    backoff_seconds: 0.1
"""
    )
    await load_workflow("slug: one-chance\nsteps: [{name: work, run: 'sleep 20'}]")
    doomed = processes("doomed", slots=2)
    await doomed.start()
    retried = (await dispatch(tgql, workflow="second-chance"))["job"]["number"]
    final = (await dispatch(tgql, workflow="one-chance"))["job"]["number"]
    for number in (retried, final):
        await wait_for(tgql, number, lambda job: job["steps"][0]["status"] == "RUNNING", within=40)

    # When the agent is killed and another agent is online
    await doomed.stop(signal.SIGKILL)
    async with temporal_runtime.running_agent(
        temporal_client, identity(temporal_runtime, tenant, "spare")
    ):
        again = await wait_for(tgql, retried, status_is("COMPLETED", "FAILED"), within=40)
        lost = await wait_for(tgql, final, status_is("COMPLETED", "FAILED"), within=40)

    # Then the retried step failed its first attempt saying so, and completed on the other agent
    assert again["status"] == "COMPLETED"
    assert again["agent"]["name"] == "spare"
    attempts = (await queued(tgql, retried))["steps"][0]["attempts"]
    assert attempts == [
        {
            "attempt": 1,
            "status": "FAILED",
            "error": "agent doomed stopped answering during step 1",
            "agent": {"name": "doomed"},
        },
        {"attempt": 2, "status": "COMPLETED", "error": None, "agent": {"name": "spare"}},
    ]
    # and the step without retries failed the job with that message
    assert lost["status"] == "FAILED"
    assert lost["error"] == "Step 1 (work) failed: agent doomed stopped answering during step 1"
    assert (await agents(tgql))["doomed"]["status"] == "OFFLINE"


async def test_a_step_flooding_stdout_keeps_the_agent_bounded_and_counts_what_it_dropped(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_runtime: Runtime,
    processes: Callable[..., AgentProcess],
) -> None:
    # Given an agent process and a step that writes 100 MB to stdout (100 000 lines)
    await load_workflow(FLOOD)
    flood = processes("flood")
    await flood.start()

    # When the job runs
    number = (await dispatch(tgql, workflow="flood"))["job"]["number"]
    job = await wait_for(tgql, number, status_is("COMPLETED", "FAILED"), within=120)

    # Then it completes; the agent stayed far below the size of the output
    assert job["status"] == "COMPLETED"
    assert flood.peak_memory_kib() < 250 * 1024
    # and every line is either in the log or counted as dropped by a SYSTEM line
    async with temporal_runtime.session_factory() as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(LogLine)
            .where(LogLine.job_number == number, LogLine.stream == LogStream.STDOUT)
        )
        notes = list(
            await session.scalars(
                select(LogLine.message).where(
                    LogLine.job_number == number, LogLine.stream == LogStream.SYSTEM
                )
            )
        )
    [dropped] = [int(note.split()[0]) for note in notes if "lines dropped" in note]
    assert kept is not None
    assert 0 < kept <= 10_000
    assert kept + dropped == 100_000

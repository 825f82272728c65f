"""The deployment of docs/deployment.md, as processes on 127.0.0.1: two API replicas on
PostgreSQL through PgBouncer (the event bus on its direct URL, the database URL from a file),
one worker, two agents, Temporal behind a mutual-TLS proxy.

One job per example workflow is dispatched through replica A while a subscriber of replica B
sees every status; replica B gets SIGTERM mid-subscription (its websocket closes with 1001 and
a resume hint) and the subscriber resumes on A with `after`: nothing is lost. Then Temporal
stops answering and PgBouncer freezes, and every process still exits within its grace +
HARD_STOP_MARGIN of SIGTERM.
"""

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.relay import to_base64
from websockets.exceptions import ConnectionClosed

from server.db import migrate
from server.db.engine import create_engine, create_session_factory
from server.net import free_port
from server.shutdown import HARD_STOP_MARGIN
from server.workflows.store import load_workflow_files
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.pgbouncer import PgBouncer, through_pgbouncer
from tests.support.processes import JOBMONITOR, until_answering
from tests.support.tls_proxy import SERVER_NAME, Certificates, MutualTlsProxy
from tests.support.waiting import eventually
from tests.support.websocket import TRANSPORT_WS, GraphQLWebSocket, graphql_ws

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("on_postgresql")]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "workflows"
INPUTS: dict[str, dict[str, Any]] = {
    "hello": {"name": "topology"},
    "se-rca-fix": {"ticket_url": "https://tracker.example/T-1"},
    "flaky-then-fail": {},
    "wait-for-approval": {},
    "slow-steps": {},
}
ENDED = {"COMPLETED", "FAILED", "CANCELLED"}
GRACE_SECONDS = 2.0
# The machine may be busy: on top of grace + HARD_STOP_MARGIN, the time to notice an exit.
EXIT_SLACK_SECONDS = 10.0
READY_SECONDS = 180.0
# The longest the jobs may take to end (the slow example sleeps 10 s; the machine may be busy).
UNTIL_SECONDS = 180.0
STATUS = """
subscription($after: Int) { jobStatusChanged(after: $after) { sequence status job { number } } }
"""
JOBS = "{ jobs(first: 50) { edges { node { number status events { sequence toStatus } } } } }"
WAITING = "{ jobs(first: 50, filter: { status: [WAITING] }) { edges { node { number } } } }"
APPROVE = "mutation($id: ID!) { approveJob(id: $id) { errors { message } } }"


@dataclass
class Member:
    """One process of the deployment and the URL that says it is ready."""

    name: str
    process: asyncio.subprocess.Process
    ready_url: str

    async def until_ready(self) -> None:
        """Poll its readiness until it answers 200."""
        async with httpx.AsyncClient() as http:
            await until_answering(http, self.ready_url, self.process, within=READY_SECONDS)

    async def stops_in_time(self) -> None:
        """SIGTERM; the process must be gone within grace + HARD_STOP_MARGIN (and the slack)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(GRACE_SECONDS + HARD_STOP_MARGIN + EXIT_SLACK_SECONDS):
                await self.process.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name} still runs after SIGTERM") from None


class Deployment:
    def __init__(self, environment: dict[str, str], stack: AsyncExitStack) -> None:
        self._environment = environment
        self._stack = stack
        self.members: list[Member] = []

    async def start(self, name: str, *arguments: str, ready_port: int | None = None) -> Member:
        port = ready_port or free_port()
        environment = {**self._environment, "JOBMONITOR_PROBE_PORT": str(port)}
        if arguments[0] == "serve":
            arguments = (*arguments, "--port", str(port))
        process = await asyncio.create_subprocess_exec(
            JOBMONITOR,
            *arguments,
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self._stack.push_async_callback(_kill, process)
        member = Member(name, process, f"http://127.0.0.1:{port}/readyz")
        self.members.append(member)
        return member


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


@pytest.fixture
async def deployment_environment(
    empty_postgres_url: str,
    pgbouncer: PgBouncer,
    tenant: str,
    certificates: Certificates,
    tmp_path: Path,
) -> dict[str, str]:
    """The settings every process of the deployment gets; the database migrated (as the
    manifests' `migrate` Job does) and the example workflows loaded, through PgBouncer."""
    pooled = through_pgbouncer(empty_postgres_url, pgbouncer.port)
    engine = create_engine(pooled, statement_cache=0)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    secret = tmp_path / "database-url"
    secret.write_text(pooled + "\n")
    kept = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    return {
        **kept,
        "JOBMONITOR_DATABASE_URL_FILE": str(secret),
        "JOBMONITOR_DATABASE_STATEMENT_CACHE": "0",
        "JOBMONITOR_EVENT_BUS_URL": empty_postgres_url,
        "JOBMONITOR_DEFAULT_TENANT": tenant,
        "JOBMONITOR_AUTH": "disabled",
        "JOBMONITOR_TEMPORAL_TASK_QUEUE": f"jobs-{uuid.uuid4().hex[:8]}",
        "JOBMONITOR_TEMPORAL_TLS_CA": str(certificates.ca),
        "JOBMONITOR_TEMPORAL_TLS_CERT": str(certificates.client_cert),
        "JOBMONITOR_TEMPORAL_TLS_KEY": str(certificates.client_key),
        "JOBMONITOR_TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        "JOBMONITOR_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        "JOBMONITOR_WS_KEEPALIVE_SECONDS": "1",
        "JOBMONITOR_OUTBOX_INTERVAL_SECONDS": "0.2",
        "JOBMONITOR_WORKSPACE_ROOT": str(tmp_path / "workspaces"),
    }


async def _load_examples(environment: dict[str, str], tenant: str) -> None:
    engine = create_engine(environment["JOBMONITOR_EVENT_BUS_URL"])
    try:
        await load_workflow_files(create_session_factory(engine), tenant=tenant, paths=[EXAMPLES])
    finally:
        await engine.dispose()


@pytest.fixture
async def temporal_proxy(
    temporal_address: str, certificates: Certificates
) -> AsyncIterator[MutualTlsProxy]:
    """A proxy of this test's own: the test stops it."""
    async with MutualTlsProxy(certificates, temporal_address).running() as proxy:
        yield proxy


async def _collect(client: GraphQLWebSocket, into: list[dict[str, Any]]) -> None:
    """Every event of subscription `s` until the server closes the connection."""
    with suppress(ConnectionClosed):
        while True:
            into.append((await client.next("s"))["jobStatusChanged"])


async def _approve_waiting(gql: GraphQLClient, numbers: set[int]) -> None:
    """Approve the jobs that wait for approval, until all of `numbers` ended."""

    async def all_ended() -> bool:
        jobs = await _jobs(gql)
        if all(jobs[number]["status"] in ENDED for number in numbers):
            return True
        for edge in (await gql.execute(WAITING))["jobs"]["edges"]:
            await gql.execute(APPROVE, id=to_base64("Job", edge["node"]["number"]))
        return False

    await eventually(all_ended, UNTIL_SECONDS)


async def _jobs(gql: GraphQLClient) -> dict[int, dict[str, Any]]:
    edges = (await gql.execute(JOBS))["jobs"]["edges"]
    return {edge["node"]["number"]: edge["node"] for edge in edges}


async def test_the_deployment_runs_every_example_and_loses_nothing_across_a_replica_shutdown(
    deployment_environment: dict[str, str],
    temporal_proxy: MutualTlsProxy,
    pgbouncer: PgBouncer,
    tenant: str,
) -> None:
    environment = {**deployment_environment, "JOBMONITOR_TEMPORAL_ADDRESS": temporal_proxy.address}
    await _load_examples(environment, tenant)
    async with AsyncExitStack() as stack:
        # given the deployment, every process ready
        deployment = Deployment(environment, stack)
        replica_a = await deployment.start("replica A", "serve")
        replica_b = await deployment.start("replica B", "serve")
        worker = await deployment.start("worker", "worker")
        agents = [
            await deployment.start(f"agent {n}", "agent", "--name", f"agent-{n}") for n in (1, 2)
        ]
        await asyncio.gather(*(member.until_ready() for member in deployment.members))
        a_url, b_url = (
            member.ready_url.removesuffix("/readyz") for member in (replica_a, replica_b)
        )
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=a_url))
        gql = GraphQLClient(http)

        # and a subscriber of replica B (from the start: `after: 0`)
        seen_on_b: list[dict[str, Any]] = []
        subscriber = await stack.enter_async_context(
            graphql_ws(b_url.replace("http", "ws") + "/graphql", TRANSPORT_WS)
        )
        await subscriber.subscribe("s", STATUS, after=0)
        collecting = asyncio.create_task(_collect(subscriber, seen_on_b))

        # when one job per example workflow is dispatched through replica A
        numbers = {
            slug: (await dispatch(gql, workflow=slug, input=value))["job"]["number"]
            for slug, value in INPUTS.items()
        }
        quick = {number for slug, number in numbers.items() if slug != "slow-steps"}
        await _approve_waiting(gql, quick)
        await eventually(lambda: _ended(seen_on_b) >= quick, UNTIL_SECONDS)

        # and replica B gets SIGTERM while the slow job still runs
        await replica_b.stops_in_time()
        await collecting
        close_code, close_reason = subscriber.socket.close_code, subscriber.socket.close_reason

        # and a job is dispatched while nobody listens, then the subscriber resumes on A
        extra = (await dispatch(gql, workflow="hello", input={}))["job"]["number"]
        seen_on_a: list[dict[str, Any]] = []
        last = seen_on_b[-1]["sequence"]
        resumed = await stack.enter_async_context(
            graphql_ws(a_url.replace("http", "ws") + "/graphql", TRANSPORT_WS)
        )
        await resumed.subscribe("s", STATUS, after=last)
        collecting = asyncio.create_task(_collect(resumed, seen_on_a))
        everything = {*numbers.values(), extra}
        await eventually(lambda: _ended(seen_on_b + seen_on_a) >= everything, UNTIL_SECONDS)
        jobs = await _jobs(gql)

        # then B's subscriber was told to resume elsewhere, and B and A together delivered
        # every status of every job, once, in order
        assert close_code == 1001
        assert "resubscribe with `after`" in close_reason
        delivered = [
            (e["sequence"], e["job"]["number"], e["status"]) for e in seen_on_b + seen_on_a
        ]
        recorded = sorted(
            (event["sequence"], number, event["toStatus"])
            for number, job in jobs.items()
            for event in job["events"]
        )
        assert delivered == recorded
        assert set(jobs) == everything
        outcomes = {slug: jobs[number]["status"] for slug, number in numbers.items()}
        assert outcomes == {
            "hello": "COMPLETED",
            "se-rca-fix": "COMPLETED",
            "flaky-then-fail": "FAILED",
            "wait-for-approval": "COMPLETED",
            "slow-steps": "COMPLETED",
        }

        # and with Temporal gone and PostgreSQL (through PgBouncer) not answering, every
        # process still exits within grace + HARD_STOP_MARGIN of SIGTERM
        temporal_proxy.stop_answering()
        with pgbouncer.frozen():
            await asyncio.gather(
                *(member.stops_in_time() for member in (replica_a, worker, *agents))
            )
        collecting.cancel()


def _ended(events: list[dict[str, Any]]) -> set[int]:
    return {event["job"]["number"] for event in events if event["status"] in ENDED}

"""`jobmonitor dev`: one command brings up everything (Temporal with its web UI, linked from the
jobs), runs jobs, records who acted, and Ctrl-C stops it all; `--demo` keeps the page alive."""

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.cli.demo import running_demo
from server.net import free_port
from server.runtime import Runtime
from tests.support.factories import add_details, build_world
from tests.support.graphql import GraphQLClient
from tests.support.mutations import APPROVE, act, dispatch
from tests.support.processes import JOBMONITOR, until_answering
from tests.support.temporal import job_state, status_is, wait_for
from tests.support.waiting import eventually

WORKFLOWS = "{ workflows(first: 20) { edges { node { slug } } } }"
LINK = "query Link($number: Int!) { job(number: $number) { temporalUrl } }"
PRINTED_UI = re.compile(r"Temporal UI at (\S+)")
START_SECONDS = 60


@dataclass(frozen=True)
class Dev:
    process: asyncio.subprocess.Process
    gql: GraphQLClient
    output: Path

    async def printed_ui_url(self) -> str:
        """The Temporal UI address `dev` printed (it prints it once everything is up)."""
        found = await eventually(lambda: PRINTED_UI.search(self.output.read_text()), START_SECONDS)
        return found.group(1)


@pytest.fixture(scope="module")
async def dev(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Dev]:
    """`jobmonitor dev` in a folder of its own, with no JOBMONITOR_ settings from outside, and
    Temporal ports of its own (another `dev` on this machine may hold the usual ones)."""
    folder = tmp_path_factory.mktemp("dev")
    output = folder / "dev.log"
    port = free_port()
    ports = ["--temporal-port", str(free_port()), "--temporal-ui-port", str(free_port())]
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    with output.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            JOBMONITOR,
            "dev",
            "--port",
            str(port),
            *ports,
            cwd=folder,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await until_answering(http, "/healthz", process, within=START_SECONDS)
            yield Dev(process, GraphQLClient(http), output)
    finally:
        await _stopped(process)


async def _stopped(process: asyncio.subprocess.Process) -> None:
    """Stop `dev` as a person would (Ctrl-C), so that it stops its Temporal dev server too;
    kill it only if that does not work."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        async with asyncio.timeout(30):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


async def test_dev_runs_the_whole_system(dev: Dev) -> None:
    edges = (await dev.gql.execute(WORKFLOWS))["workflows"]["edges"]
    assert {"hello", "wait-for-approval"} <= {edge["node"]["slug"] for edge in edges}
    number = (await dispatch(dev.gql, workflow="hello", input={"name": "dev"}))["job"]["number"]
    job = await wait_for(dev.gql, number, status_is("COMPLETED", "FAILED"), within=30)
    assert job["status"] == "COMPLETED"
    assert job["output"] == {"greeted": "dev"}
    assert job["agent"]["name"] == "local-agent"


async def test_dev_serves_temporals_web_ui_where_it_says_and_links_jobs_to_it(dev: Dev) -> None:
    # given the address dev printed
    ui_url = await dev.printed_ui_url()
    # then Temporal's web UI answers there, on loopback
    assert ui_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient() as http:
        page = await http.get(ui_url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        # and a job's link opens its workflow in that UI
        number = (await dispatch(dev.gql, workflow="hello", input={"name": "ui"}))["job"]["number"]
        link = (await dev.gql.execute(LINK, number=number))["job"]["temporalUrl"]
        assert link == f"{ui_url}/namespaces/default/workflows/pipeline-job-{number}"
        assert (await http.get(link)).status_code == 200


async def test_an_approval_in_dev_records_its_actor(dev: Dev) -> None:
    # given a job waiting for approval
    number = (await dispatch(dev.gql, workflow="wait-for-approval"))["job"]["number"]
    await wait_for(dev.gql, number, status_is("WAITING"), within=30)
    # when someone approves it (dev runs with auth disabled)
    payload = await act(dev.gql, APPROVE, number)
    # then the approval names its actor
    assert payload["errors"] == []
    events = (await job_state(dev.gql, number))["events"]
    approval = next(event for event in events if event["fromStatus"] == "WAITING")
    assert approval["actor"] == "local"


async def test_dev_stops_everything_on_ctrl_c(dev: Dev) -> None:
    dev.process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        assert await dev.process.wait() == 0


async def test_the_demo_decides_jobs_that_have_waited_a_while(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": "WAITING"}])
    number = world.jobs[0].number
    await add_details(runtime.session_factory, world.jobs[0], steps=0, logs=0)

    async with running_demo(runtime, tenant):
        job = await wait_for(gql, number, status_is("RUNNING", "FAILED"), within=5)

    assert job["events"][-1]["actor"] == "demo"

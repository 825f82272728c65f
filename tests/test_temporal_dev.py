"""`jobmonitor dev`: one command brings up everything (Temporal with its web UI, linked from the
jobs), runs jobs, records who acted, and Ctrl-C stops it all; `--demo` keeps the page alive."""

import asyncio
import re
import signal
from collections.abc import AsyncIterator

import httpx
import pytest

from server.cli.demo import running_demo
from server.runtime import Runtime
from tests.support.dev import START_SECONDS, Dev, running_dev
from tests.support.factories import add_details, build_world
from tests.support.graphql import GraphQLClient
from tests.support.mutations import APPROVE, REJECT, act, dispatch
from tests.support.temporal import job_state, status_is, wait_for
from tests.support.waiting import eventually

WORKFLOWS = "{ workflows(first: 20) { edges { node { slug } } } }"
LINK = "query Link($number: Int!) { job(number: $number) { temporalUrl } }"
PRINTED_UI = re.compile(r"Temporal UI at (\S+)")


@pytest.fixture(scope="module")
async def dev(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Dev]:
    async with running_dev(tmp_path_factory.mktemp("dev")) as running:
        yield running


async def printed_ui_url(dev: Dev) -> str:
    """The Temporal UI address `dev` printed (it prints it once everything is up)."""
    found = await eventually(lambda: PRINTED_UI.search(dev.output.read_text()), START_SECONDS)
    return found.group(1)


async def test_dev_runs_the_whole_system(dev: Dev) -> None:
    edges = (await dev.gql.execute(WORKFLOWS))["workflows"]["edges"]
    assert {"hello", "wait-for-approval"} <= {edge["node"]["slug"] for edge in edges}
    # a job waiting for approval holds one of the local agent's slots, not all of them
    waiting = (await dispatch(dev.gql, workflow="wait-for-approval"))["job"]["number"]
    await wait_for(dev.gql, waiting, status_is("WAITING"), within=30)
    number = (await dispatch(dev.gql, workflow="hello", input={"name": "dev"}))["job"]["number"]
    job = await wait_for(dev.gql, number, status_is("COMPLETED", "FAILED"), within=30)
    assert job["status"] == "COMPLETED"
    assert job["output"] == {"greeted": "dev"}
    assert job["agent"]["name"] == "local-agent"
    assert (await job_state(dev.gql, waiting))["status"] == "WAITING"
    assert (await act(dev.gql, REJECT, waiting))["errors"] == []


async def test_dev_serves_temporals_web_ui_where_it_says_and_links_jobs_to_it(dev: Dev) -> None:
    # given the address dev printed
    ui_url = await printed_ui_url(dev)
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

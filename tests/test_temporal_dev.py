"""`jobmonitor dev`: one command brings up everything, runs a job, and Ctrl-C stops it all;
`--demo` keeps the page alive."""

import asyncio
import os
import signal
from pathlib import Path

import httpx

from server.cli.demo import running_demo
from server.net import free_port
from server.runtime import Runtime
from tests.support.factories import add_details, build_world
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch
from tests.support.processes import JOBMONITOR, until_answering
from tests.support.temporal import status_is, wait_for

WORKFLOWS = "{ workflows(first: 20) { edges { node { slug } } } }"


async def test_dev_runs_the_whole_system_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    process = await asyncio.create_subprocess_exec(
        JOBMONITOR,
        "dev",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await until_answering(http, "/healthz", process, within=60)
            gql = GraphQLClient(http)

            edges = (await gql.execute(WORKFLOWS))["workflows"]["edges"]
            assert {"hello", "wait-for-approval"} <= {edge["node"]["slug"] for edge in edges}
            number = (await dispatch(gql, workflow="hello", input={"name": "dev"}))["job"]["number"]
            job = await wait_for(gql, number, status_is("COMPLETED", "FAILED"), within=30)
            assert job["status"] == "COMPLETED"
            assert job["output"] == {"greeted": "dev"}
            assert job["agent"]["name"] == "local-agent"

        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_demo_decides_jobs_that_have_waited_a_while(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": "WAITING"}])
    number = world.jobs[0].number
    await add_details(runtime.session_factory, world.jobs[0], steps=0, logs=0)

    async with running_demo(runtime, tenant):
        job = await wait_for(gql, number, status_is("RUNNING", "FAILED"), within=5)

    assert job["events"][-1]["actor"] == "demo"

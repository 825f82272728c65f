"""Artifacts of a real job: a step's files reach the job while it runs (pushed by jobUpdated),
files over the cap and links are skipped with a SYSTEM line, and the job goes on.

On PostgreSQL the job runs on a `jobmonitor agent` process (its notices reach the API over
LISTEN/NOTIFY); on SQLite, whose event bus is one process's, on an agent of the API's process, as
`jobmonitor dev` runs it."""

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import anyio
import httpx
import pytest

from server.app import create_app
from server.runtime import Runtime, artifacts_for
from tests.support.agent_process import AgentProcess
from tests.support.graphql import GraphQLClient
from tests.support.servers import serve
from tests.support.temporal import AGENT, Loader, status_is, wait_for, with_temporal
from tests.support.websocket import TRANSPORT_WS, graphql_ws

pytestmark = pytest.mark.usefixtures("control_plane")

CAP = 4096
RECORDS = r"""
slug: records
steps:
  - name: record
    run: |
      printf '\211PNG\r\n\032\n0000' > "$JOB_ARTIFACTS/screen.png"
      head -c 5000 /dev/zero > "$JOB_ARTIFACTS/huge.bin"
      ln -s /etc/passwd "$JOB_ARTIFACTS/passwd"
      while [ ! -e "$JOB_WORKSPACE/seen" ]; do sleep 0.1; done
      echo done > "$JOB_ARTIFACTS/report.txt"
"""
JOB_UPDATED = """
subscription($id: ID!) { jobUpdated(id: $id) { status artifacts { name contentType step } } }
"""
DISPATCH = 'mutation { dispatchJob(input: {workflow: "records"}) { job { id number } } }'
SYSTEM_LINES = """
query($number: Int!) { job(number: $number) { logs(first: 50, streams: [SYSTEM]) {
  edges { node { message } } } } }
"""


@pytest.fixture
def temporal_runtime(runtime: Runtime, temporal_address: str, tmp_path: Path) -> Runtime:
    """Capped artifacts, looked for five times a second (the agent process gets the same)."""
    settings = runtime.settings.model_copy(
        update={"artifact_max_bytes": CAP, "artifact_scan_seconds": 0.2}
    )
    capped = artifacts_for(
        settings, runtime.session_factory, runtime.bus, dialect=runtime.engine.dialect.name
    )
    capped_runtime = replace(runtime, settings=settings, artifacts=capped)
    return with_temporal(capped_runtime, temporal_address, tmp_path / "ws")


@pytest.fixture
async def agent_process(temporal_runtime: Runtime, tenant: str) -> AsyncIterator[AgentProcess]:
    process = AgentProcess(temporal_runtime, tenant=tenant, name=AGENT)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
def some_agent(request: pytest.FixtureRequest, database_url: str) -> None:
    """An agent process on PostgreSQL; one of this process on SQLite."""
    on_postgres = database_url.startswith("postgresql")
    request.getfixturevalue("agent_process" if on_postgres else "agent")


async def test_a_screenshot_shows_up_while_its_step_runs(
    temporal_runtime: Runtime, load_workflow: Loader, tenant: str, some_agent: None
) -> None:
    await load_workflow(RECORDS)
    async with (
        serve(create_app(runtime=temporal_runtime)) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        graphql_ws(server.ws_url, TRANSPORT_WS) as live,
    ):
        gql = GraphQLClient(http)
        job = (await gql.execute(DISPATCH))["dispatchJob"]["job"]
        await live.subscribe("u", JOB_UPDATED, id=job["id"])

        # the screenshot arrives while the step still runs
        while True:
            update = (await live.next("u"))["jobUpdated"]
            if update["artifacts"]:
                break
        assert update["status"] == "RUNNING"
        assert update["artifacts"] == [
            {"name": "screen.png", "contentType": "image/png", "step": 0}
        ]

        # when the step is let go, the job ends with its report, and the skipped files said so
        workspace = temporal_runtime.settings.workspace_root / tenant / f"job-{job['number']}"
        await anyio.Path(workspace / "seen").touch()
        ended = await wait_for(gql, job["number"], status_is("COMPLETED", "FAILED"))
        assert ended["status"] == "COMPLETED"
        names = await gql.execute(
            "query($n: Int!) { job(number: $n) { artifacts { name } } }", n=job["number"]
        )
        assert [a["name"] for a in names["job"]["artifacts"]] == ["screen.png", "report.txt"]
        lines = await gql.execute(SYSTEM_LINES, number=job["number"])
        messages = [edge["node"]["message"] for edge in lines["job"]["logs"]["edges"]]
        assert any("'huge.bin' skipped" in m and f"{CAP}-byte cap" in m for m in messages)
        assert any("'passwd' skipped: not a regular file" in m for m in messages)

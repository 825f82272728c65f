"""Jobs for live-update tests, written through the services as in production, and waiting."""

import asyncio
from collections.abc import Callable

from server.db.models import Job
from server.domain.dispatch import DispatchRequest
from server.runtime import Runtime
from tests.factories import build_world

POLL_SECONDS = 0.01


async def given_workflows(runtime: Runtime, tenant: str) -> None:
    """The two workflows of `build_world` (se-rca-fix and code-review), with no jobs."""
    await build_world(runtime.session_factory, tenant, [])


async def dispatch(
    runtime: Runtime, tenant: str, workflow: str = "se-rca-fix", **fields: object
) -> Job:
    request = DispatchRequest(workflow=workflow, **fields)  # type: ignore[arg-type]
    return await runtime.jobs.dispatch(tenant=tenant, request=request, actor="tests")


async def cancel(runtime: Runtime, tenant: str, number: int) -> Job:
    return await runtime.jobs.cancel(tenant=tenant, number=number, actor="tests")


async def wait_until(condition: Callable[[], bool], *, seconds: float = 5.0) -> None:
    """Poll until `condition` holds; fail the test after `seconds`."""
    steps = int(seconds / POLL_SECONDS)
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"still not true after {seconds} s")


async def streams_registered(runtime: Runtime, count: int = 1) -> None:
    """Wait until the server's live streams have registered with the hub."""
    await wait_until(lambda: runtime.live.watching() >= count)

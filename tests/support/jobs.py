"""Jobs written through the services, as the API writes them (no GraphQL on the way)."""

from server.db.models import Job
from server.domain.dispatch import DispatchRequest
from server.runtime import Runtime
from tests.support.factories import build_world


async def given_workflows(runtime: Runtime, tenant: str) -> None:
    """The two workflows of `build_world` (se-rca-fix and code-review), with no jobs."""
    await build_world(runtime.session_factory, tenant, [])


async def dispatch_job(
    runtime: Runtime, tenant: str, workflow: str = "se-rca-fix", **fields: object
) -> Job:
    request = DispatchRequest(workflow=workflow, **fields)  # type: ignore[arg-type]
    return await runtime.jobs.dispatch(tenant=tenant, request=request, actor="tests")


async def cancel_job(runtime: Runtime, tenant: str, number: int) -> Job:
    return await runtime.jobs.cancel(tenant=tenant, number=number, actor="tests")

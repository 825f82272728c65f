"""The context getter: each request's principal, services and loaders, built in one place."""

from starlette.requests import HTTPConnection

from resolvers.context import Context
from server.auth import Principal
from server.auth.gate import gate_of
from server.runtime import Runtime

from .request_id import request_id_of


def context_for(runtime: Runtime, principal: Principal, *, request_id: str = "") -> Context:
    """The context of one operation: the services it may use and loaders of its own."""
    return Context(
        principal=principal,
        settings=runtime.settings,
        jobs=runtime.jobs,
        schedules=runtime.schedules,
        live=runtime.live,
        read_session_factory=runtime.read_session_factory,
        operations=runtime.operations,
        deletion=runtime.deletion,
        timeline=runtime.timeline,
        request_id=request_id,
    )


def trusted_context(runtime: Runtime, tenant: str, *, actor: str | None = None) -> Context:
    """In-process use with full rights in one tenant (tests, tools)."""
    return context_for(runtime, Principal.trusted(tenant, actor=actor))


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The runtime the app was started with."""
    runtime: Runtime = connection.app.state.runtime
    return runtime


async def request_context(connection: HTTPConnection) -> Context:
    principal = await gate_of(connection).admit(connection)
    return context_for(
        runtime_of(connection), principal, request_id=request_id_of(connection.state)
    )

"""The context getter: each request's principal and loaders, built in one place."""

from starlette.requests import HTTPConnection

from resolvers.context import Context
from server.auth.gate import gate_of
from server.runtime import Runtime

from .request_id import request_id_of


async def request_context(connection: HTTPConnection) -> Context:
    runtime: Runtime = connection.app.state.runtime
    principal = await gate_of(connection).admit(connection)
    return Context.for_principal(runtime, principal, request_id=request_id_of(connection.state))

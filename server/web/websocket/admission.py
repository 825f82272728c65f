"""Who a websocket acts as: the token in its `connection_init` payload, checked by the gate."""

from starlette.websockets import WebSocket

from resolvers.context import Context
from server.auth.gate import gate_of
from server.runtime import Runtime
from server.web.request_id import request_id_of

from .connection import Admission


async def admit(websocket: WebSocket, params: object) -> Admission | None:
    principal = await gate_of(websocket).authenticate_params(params)
    if principal is None:
        return None
    runtime: Runtime = websocket.app.state.runtime
    request_id = request_id_of(websocket.state)
    return Admission(
        new_context=lambda: Context.for_principal(runtime, principal, request_id=request_id),
        scope=(principal.tenant, principal.role),
    )

"""Who a websocket acts as: the token in its `connection_init` payload, checked by the gate."""

from starlette.websockets import WebSocket

from server.auth.gate import gate_of
from server.web.context import context_for, runtime_of
from server.web.request_id import request_id_of

from .connection import Admission


async def admit(websocket: WebSocket, params: object) -> Admission | None:
    principal = await gate_of(websocket).authenticate_params(params)
    if principal is None:
        return None
    runtime = runtime_of(websocket)
    request_id = request_id_of(websocket.state)
    return Admission(
        new_context=lambda: context_for(runtime, principal, request_id=request_id),
        scope=(principal.tenant, principal.role),
    )

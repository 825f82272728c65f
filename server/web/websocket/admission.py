"""Who a websocket acts as: the token in its `connection_init` payload, checked by the gate,
and the checks every operation on it passes (the token still works, the rate limit)."""

from functools import partial

from graphql import GraphQLError
from starlette.websockets import WebSocket

from server.auth import Principal
from server.auth.gate import Gate, gate_of
from server.web.context import context_for, runtime_of
from server.web.request_id import request_id_of

from . import close_codes
from .close_codes import CloseReason
from .connection import Admission


async def admit(websocket: WebSocket, params: object) -> Admission | CloseReason:
    """The socket's admission, or why it closes: a bad token (4403), or too many bad
    tokens from its client address (4429)."""
    gate = gate_of(websocket)
    principal = await gate.authenticate_params(params)
    if principal is None:
        refusal = gate.unauthenticated(websocket)
        if refusal.status == 429:
            return close_codes.throttled(refusal.message)
        return close_codes.FORBIDDEN
    runtime = runtime_of(websocket)
    request_id = request_id_of(websocket.state)
    return Admission(
        new_context=lambda: context_for(runtime, principal, request_id=request_id),
        scope=(principal.tenant, principal.role),
        owner=principal.token_id,
        still_admitted=partial(gate.still_admitted, params, principal),
        throttled=partial(_throttled, gate, principal),
        watch=partial(gate.watch, principal),
    )


def _throttled(gate: Gate, principal: Principal) -> GraphQLError | None:
    rejection = gate.rate_limited(principal)
    if rejection is None:
        return None
    return GraphQLError(
        rejection.message,
        extensions={"code": rejection.code.value, "retryAfter": rejection.headers["Retry-After"]},
    )

"""Close codes and reasons of the websocket endpoint (graphql-transport-ws numbering)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CloseReason:
    code: int
    reason: str


BAD_MESSAGE = CloseReason(4400, "Invalid message received")
UNAUTHORIZED = CloseReason(4401, "Unauthorized")
FORBIDDEN = CloseReason(4403, "Forbidden")
SUBPROTOCOL_NOT_ACCEPTABLE = CloseReason(4406, "Subprotocol not acceptable")
INIT_TIMEOUT = CloseReason(4408, "Connection initialisation timeout")
TOO_MANY_INITS = CloseReason(4429, "Too many initialisation requests")
NORMAL = CloseReason(1000, "Normal Closure")
TOO_BIG = CloseReason(1009, "Message too big")
# 1013 "Try Again Later": the client reconnects and resubscribes with `after`.
FELL_BEHIND = CloseReason(1013, "Subscriber fell behind: resubscribe with `after` to resume")
# 1001 "Going Away": the client reconnects (to another replica) and resubscribes with `after`.
SHUTTING_DOWN = CloseReason(
    1001, "Server shutting down: reconnect and resubscribe with `after` to resume"
)


def duplicate(operation_id: str) -> CloseReason:
    return CloseReason(4409, f"Subscriber for {operation_id[:80]} already exists")


def throttled(message: str) -> CloseReason:
    """Too many sockets from one address sent no valid token (a close reason fits 123 bytes)."""
    return CloseReason(4429, message[:120])

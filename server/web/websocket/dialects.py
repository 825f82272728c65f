"""The two GraphQL-over-websocket protocols: graphql-transport-ws (the `graphql-ws` library)
and the legacy graphql-ws (subscriptions-transport-ws). They differ in message names."""

from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class Dialect:
    subprotocol: str
    start: str
    stop: str
    data: str
    keepalive: str
    """The frame the server sends now and then so idle connections stay open."""
    answers_pings: bool

    def data_frame(self, id_json: str, payload: str) -> str:
        """`payload` is already JSON: only the subscription id is spliced in."""
        return f'{{"id":{id_json},"type":"{self.data}","payload":{payload}}}'

    def error_frame(self, id_json: str, errors: str) -> str:
        return f'{{"id":{id_json},"type":"error","payload":{errors}}}'

    def complete_frame(self, id_json: str) -> str:
        return f'{{"id":{id_json},"type":"complete"}}'


TRANSPORT_WS = Dialect(
    subprotocol="graphql-transport-ws",
    start="subscribe",
    stop="complete",
    data="next",
    keepalive=orjson.dumps({"type": "ping"}).decode(),
    answers_pings=True,
)
LEGACY_WS = Dialect(
    subprotocol="graphql-ws",
    start="start",
    stop="stop",
    data="data",
    keepalive=orjson.dumps({"type": "ka"}).decode(),
    answers_pings=False,
)
DIALECTS = (TRANSPORT_WS, LEGACY_WS)


def choose(offered: list[str]) -> Dialect | None:
    """The protocol to speak: the current one when a client offers both."""
    return next((dialect for dialect in DIALECTS if dialect.subprotocol in offered), None)

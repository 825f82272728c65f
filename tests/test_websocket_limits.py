"""Operations over a websocket get the limits operations over HTTP get."""

from dataclasses import replace

from server.app import create_app
from server.auth import Role
from server.runtime import Runtime
from tests.support.auth import app_with, token_for
from tests.support.servers import serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

JOBS = "{ jobs { totalCount } }"
COUNTS = "subscription { jobCounts { all } }"


async def test_a_query_over_a_socket_stops_at_the_execution_timeout(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"execution_timeout_seconds": 1e-9})
    async with (
        serve(create_app(runtime=replace(runtime, settings=settings))) as server,
        graphql_ws(server.ws_url, TRANSPORT_WS) as ws,
    ):
        await ws.subscribe("1", JOBS)
        result = await ws.receive()
        end = await ws.receive()

    assert result["payload"]["data"] is None
    assert result["payload"]["errors"][0]["extensions"] == {"code": "TIMEOUT"}
    assert end == {"id": "1", "type": "complete"}


async def test_one_socket_may_hold_only_so_many_operations(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"ws_max_operations_per_socket": 3})
    async with (
        serve(create_app(runtime=replace(runtime, settings=settings))) as server,
        graphql_ws(server.ws_url, TRANSPORT_WS) as ws,
    ):
        for operation in "abc":
            await ws.subscribe(operation, COUNTS)
            await ws.next(operation)
        await ws.subscribe("d", COUNTS)
        refused = await ws.receive()
        await ws.stop("a")
        await ws.subscribe("e", COUNTS)
        accepted = await ws.next("e")

    assert refused["id"] == "d"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"] == {"code": "TOO_MANY_OPERATIONS"}
    assert accepted == {"jobCounts": {"all": 0}}


async def test_one_token_may_hold_only_so_many_operations_over_all_its_sockets(
    runtime: Runtime,
) -> None:
    token = await token_for(runtime, Role.VIEWER)
    app = app_with(runtime, ws_max_operations_per_socket=3, ws_max_operations_per_token=4)
    async with (
        serve(app) as server,
        graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as first,
        graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as second,
    ):
        for ws in (first, second):
            await ws.init(bearer_payload(token))
        for operation in "abc":
            await first.subscribe(operation, COUNTS)
            await first.next(operation)
        await second.subscribe("d", COUNTS)
        await second.next("d")
        await second.subscribe("e", COUNTS)
        refused = await second.receive()

    assert refused["id"] == "e"
    assert refused["payload"][0]["extensions"] == {"code": "TOO_MANY_OPERATIONS"}


async def test_subscribe_messages_take_from_the_tokens_rate_limit(runtime: Runtime) -> None:
    token = await token_for(runtime, Role.VIEWER)
    app = app_with(runtime, rate_limit_per_minute=1, rate_limit_burst=2)
    async with serve(app) as server, graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws:
        await ws.init(bearer_payload(token))
        for operation in "ab":
            await ws.subscribe(operation, COUNTS)
            await ws.next(operation)
        await ws.subscribe("c", COUNTS)
        refused = await ws.receive()

    assert refused["id"] == "c"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


def bearer_payload(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

"""Operations over a websocket get the limits operations over HTTP get."""

from dataclasses import replace

from server.app import create_app
from server.runtime import Runtime
from tests.support.servers import serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

JOBS = "{ jobs { totalCount } }"


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

"""Other web sites cannot drive the API through a visitor's browser: websocket upgrades from a
foreign origin are refused, and with auth off only loopback names and addresses are served."""

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from websockets.exceptions import InvalidStatus

from server.app import create_app
from server.auth import Role
from server.runtime import Runtime
from tests.support.auth import app_with, token_for
from tests.support.graphql import serving
from tests.support.servers import LiveServer, serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

JOBS = {"query": "{ jobs { totalCount } }"}
EVIL = "https://evil.example"
OPS = "https://ops.example"


@pytest.fixture
async def open_server(runtime: Runtime) -> AsyncIterator[LiveServer]:
    """Auth off, as under `jobmonitor dev`."""
    async with serve(create_app(runtime=runtime)) as server:
        yield server


async def test_a_foreign_page_cannot_open_a_websocket_to_a_server_without_auth(
    open_server: LiveServer,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with graphql_ws(open_server.ws_url, TRANSPORT_WS, origin=EVIL):
            pass

    assert refused.value.response.status_code == 403
    assert b"FORBIDDEN" in refused.value.response.body


async def test_the_servers_own_pages_open_websockets(open_server: LiveServer) -> None:
    async with graphql_ws(
        open_server.ws_url, TRANSPORT_WS, origin=f"http://127.0.0.1:{open_server.port}"
    ) as ws:
        await ws.subscribe("1", "subscription { jobCounts { all } }")
        counts = await ws.next("1")

    assert counts == {"jobCounts": {"all": 0}}


async def test_with_auth_on_only_the_cors_origins_open_websockets(runtime: Runtime) -> None:
    token = await token_for(runtime, Role.VIEWER)
    async with serve(app_with(runtime, cors_origins=[OPS])) as server:
        async with graphql_ws(server.ws_url, TRANSPORT_WS, init=False, origin=OPS) as ws:
            await ws.init({"Authorization": f"Bearer {token}"})
        with pytest.raises(InvalidStatus) as refused:
            async with graphql_ws(server.ws_url, TRANSPORT_WS, init=False, origin=EVIL):
                pass

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("rebind.evil.example", 421),
        ("127.0.0.1.evil.example", 421),
        ("10.0.0.7", 421),
        ("localhost", 200),
        ("app.localhost", 200),
        ("127.0.0.1", 200),
        ("[::1]", 200),
    ],
)
async def test_without_auth_only_loopback_host_names_are_answered(
    open_server: LiveServer, host: str, status: int
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{open_server.http_url}/graphql",
            json=JOBS,
            headers={"Host": f"{host}:{open_server.port}"},
        )

    assert response.status_code == status
    if status == 421:
        assert response.json()["errors"][0]["extensions"]["code"] == "MISDIRECTED"


async def test_without_auth_a_websocket_with_a_rebound_host_name_is_refused(
    open_server: LiveServer,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with graphql_ws(
            f"ws://rebind.evil.example:{open_server.port}/graphql",
            TRANSPORT_WS,
            host="127.0.0.1",  # where the rebound name now points
        ):
            pass

    assert refused.value.response.status_code == 421


async def test_without_auth_a_request_from_a_foreign_page_is_refused(
    open_server: LiveServer,
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{open_server.http_url}/graphql", json=JOBS, headers={"Origin": EVIL}
        )

    assert response.status_code == 403


def _served_on(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests reach `app` as if it listened on `address` (uvicorn --factory,
    gunicorn: no `jobmonitor serve` to check the address first)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{address}")


@pytest.mark.parametrize(("allow", "status"), [(False, 403), (True, 200)])
async def test_the_app_itself_refuses_to_serve_without_auth_beyond_loopback(
    runtime: Runtime, allow: bool, status: int
) -> None:
    settings = runtime.settings.model_copy(update={"allow_unauthenticated": allow})
    app = create_app(runtime=replace(runtime, settings=settings))
    async with serving(app), _served_on(app, "192.0.2.10") as http:
        response = await http.post("/graphql", json=JOBS)

    assert response.status_code == status
    if not allow:
        assert "refusing to serve without authentication" in response.text

"""Websocket documents get the limits HTTP documents get, before anything is parsed in full or
kept: an oversized subscription costs the server neither its loop nor its memory."""

import asyncio
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvicorn

from resolvers.documents import document_cache
from server.auth import Role
from server.cli import dev
from server.runtime import Runtime
from tests.support.auth import app_with, token_for
from tests.support.servers import LiveServer, serve
from tests.support.websocket import PROTOCOLS, TRANSPORT_WS, graphql_ws

HUGE = "subscription{" + " b" * 450_000 + "}"
"""0.9 MB, 450 000 tokens: under the message cap, far over the token limit."""
COPIES = 3
MEMORY_BOUND = 32 << 20
"""Parsing one such document in full took about 240 MB; refusing three may take a few."""
HEALTH_DEADLINE = 20
"""A liveness deadline, not a benchmark (the latency is recorded as `healthz_seconds`): the
memory and cache bounds are what tell a refused document from a parsed one."""
COUNTS = "subscription { jobCounts { all } }"


async def test_an_oversized_subscription_is_refused_without_parsing_it_or_keeping_it(
    runtime: Runtime,
) -> None:
    token = await token_for(runtime, Role.VIEWER)
    cache = document_cache()
    async with serve(app_with(runtime)) as server:
        kept_before = len(cache)
        tracemalloc.start()
        try:
            async with graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws:
                await ws.init({"Authorization": f"Bearer {token}"})
                baseline, _ = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                for copy in range(COPIES):
                    await ws.subscribe(str(copy), HUGE + " " * copy)
                frames = [await ws.receive() for _ in range(COPIES)]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert [frame["type"] for frame in frames] == ["error"] * COPIES
    assert all("more than 2000 tokens" in str(frame["payload"]) for frame in frames)
    assert len(cache) == kept_before
    assert peak - baseline < MEMORY_BOUND


async def test_the_server_keeps_answering_while_oversized_subscriptions_arrive(
    runtime: Runtime, record_property: Callable[[str, object], None]
) -> None:
    token = await token_for(runtime, Role.VIEWER)
    async with (
        serve(app_with(runtime)) as server,
        httpx.AsyncClient(timeout=HEALTH_DEADLINE) as http,
        graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws,
    ):
        await ws.init({"Authorization": f"Bearer {token}"})
        for copy in range(COPIES):
            await ws.subscribe(str(copy), HUGE + " " * copy)
        started = time.monotonic()
        health = await http.get(f"{server.http_url}/healthz")
        record_property("healthz_seconds", round(time.monotonic() - started, 3))
        frames = [await ws.receive() for _ in range(COPIES)]

    assert health.status_code == 200
    assert [frame["type"] for frame in frames] == ["error"] * COPIES


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_syntax_error_is_answered_with_an_error_frame_and_frees_the_id(
    live_server: LiveServer, protocol: str
) -> None:
    async with graphql_ws(live_server.ws_url, protocol) as ws:
        await ws.subscribe("1", "subscription{")
        refused = await ws.receive()
        await ws.subscribe("1", COUNTS)
        counts = await ws.next("1")

    assert refused["type"] == "error"
    assert refused["id"] == "1"
    assert "Syntax Error" in str(refused["payload"])
    assert counts == {"jobCounts": {"all": 0}}


async def test_a_message_over_the_size_cap_closes_the_socket_whatever_the_server(
    runtime: Runtime,
) -> None:
    settings = runtime.settings.model_copy(update={"max_body_bytes": 4096})
    token = await token_for(runtime, Role.VIEWER)
    async with (
        serve(app_with(replace(runtime, settings=settings))) as server,
        graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws,
    ):
        await ws.init({"Authorization": f"Bearer {token}"})
        await ws.subscribe("1", COUNTS + " " * 5000)
        closed = await ws.close_frame()

    assert closed.code == 1009


async def test_dev_caps_websocket_messages_as_serve_does(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs: list[uvicorn.Config] = []

    class Recorded:
        def __init__(self, config: uvicorn.Config, **_parts: Any) -> None:
            configs.append(config)
            self.should_exit = False

        async def serve(self, *_args: Any) -> None:
            return None

    monkeypatch.setattr(dev, "EmbeddedServer", Recorded)
    # the hard stop that ends a stopping `dev` process would end this test run instead
    monkeypatch.setattr(dev, "arm_hard_stop", lambda _grace: None)

    await dev._serve_api(runtime, host="127.0.0.1", port=0, stop=asyncio.Event())

    assert configs[0].ws_max_size == runtime.settings.max_body_bytes

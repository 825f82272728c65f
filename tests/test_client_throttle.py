"""Requests without a valid token are throttled per client address; behind a proxy, the
address is read from X-Forwarded-For only when the proxy is trusted."""

from ipaddress import ip_network

import httpx
import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError
from starlette.requests import HTTPConnection

from server.auth import Role
from server.auth.client_address import client_address, limit_key
from server.auth.rate_limit import RateLimiter
from server.runtime import Runtime
from server.settings import Settings
from tests.support.auth import app_with, bearer, token_for
from tests.support.graphql import serving
from tests.support.servers import serve
from tests.support.websocket import TRANSPORT_WS, graphql_ws

JOBS = {"query": "{ jobs(first: 1) { totalCount } }"}
BURST = 3
THROTTLED = {"unauthenticated_rate_per_minute": 6, "unauthenticated_rate_burst": BURST}
PROXY = "10.0.0.7"


def connection(peer: str, *forwarded: str) -> HTTPConnection:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return HTTPConnection({"type": "http", "client": (peer, 4321), "headers": headers})


async def statuses(http: httpx.AsyncClient, count: int, headers: dict[str, str]) -> list[int]:
    return [
        (await http.post("/graphql", json=JOBS, headers=headers)).status_code for _ in range(count)
    ]


async def test_an_address_without_a_valid_token_is_throttled_but_tokens_still_work(
    authed_runtime: Runtime,
) -> None:
    token = await token_for(authed_runtime, Role.VIEWER)
    async with serving(app_with(authed_runtime, **THROTTLED)) as http:
        # given an address that spent its burst on requests without a valid token
        refused = await statuses(http, BURST, {"authorization": "Bearer jm_" + "x" * 43})

        # when it sends one more, and then one with a valid token
        throttled = await http.post("/graphql", json=JOBS)
        allowed = await http.post("/graphql", json=JOBS, headers=bearer(token))

    assert refused == [401] * BURST
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "127.0.0.1" in throttled.json()["errors"][0]["message"]
    assert allowed.status_code == 200


async def test_forwarded_addresses_count_apart_only_behind_a_trusted_proxy(
    authed_runtime: Runtime,
) -> None:
    trusting = app_with(authed_runtime, trusted_proxies=[ip_network("127.0.0.1")], **THROTTLED)
    async with serving(trusting) as http:
        first = await statuses(http, BURST + 1, {"x-forwarded-for": "192.0.2.1"})
        # the client wrote the left entry; the proxy appended the address it saw
        second = await statuses(http, BURST + 1, {"x-forwarded-for": "192.0.2.1, 192.0.2.2"})
    untrusting = app_with(authed_runtime, **THROTTLED)
    async with serving(untrusting) as http:
        spoofed = [
            (
                await http.post("/graphql", json=JOBS, headers={"x-forwarded-for": f"192.0.2.{n}"})
            ).status_code
            for n in range(BURST + 1)
        ]

    assert first == [401] * BURST + [429]
    assert second == [401] * BURST + [429]
    assert spoofed == [401] * BURST + [429]


async def test_a_socket_from_an_address_that_sent_too_many_bad_tokens_closes_4429(
    authed_runtime: Runtime,
) -> None:
    bad = {"Authorization": "Bearer jm_" + "y" * 43}
    codes = []
    async with serve(app_with(authed_runtime, **THROTTLED)) as server:
        for _ in range(BURST + 1):
            async with graphql_ws(server.ws_url, TRANSPORT_WS, init=False) as ws:
                await ws.send({"type": "connection_init", "payload": bad})
                codes.append((await ws.close_frame()).code)

    assert codes == [4403] * BURST + [4429]


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        ([], "192.0.2.9", ["198.51.100.1"], "192.0.2.9"),
        ([PROXY], "192.0.2.9", ["198.51.100.1"], "192.0.2.9"),
        ([PROXY], PROXY, [], PROXY),
        ([PROXY], PROXY, ["198.51.100.1"], "198.51.100.1"),
        ([PROXY], PROXY, ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ([PROXY], PROXY, ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
        (["10.0.0.0/8"], PROXY, ["198.51.100.1, 10.0.0.8"], "198.51.100.1"),
        ([PROXY], PROXY, ["198.51.100.1, not-an-address"], PROXY),
        (["10.0.0.0/8"], PROXY, ["10.0.0.1"], "10.0.0.1"),
    ],
)
def test_the_client_is_the_right_most_hop_no_trusted_proxy_wrote(
    trusted: list[str], peer: str, forwarded: list[str], client: str
) -> None:
    settings = Settings(trusted_proxies=trusted, _env_file=None)  # type: ignore[call-arg]

    assert client_address(connection(peer, *forwarded), settings.trusted_proxies) == client


def test_ipv6_clients_are_limited_by_their_64_prefix() -> None:
    assert limit_key("2001:db8:1:2:3:4:5:6") == limit_key("2001:db8:1:2:ffff::1")
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("192.0.2.1") == "192.0.2.1"


@pytest.mark.parametrize("value", ['["proxy.internal"]', '["10.0.0.300"]', "10.0.0.7"])
def test_a_trusted_proxy_that_is_no_address_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("JOBMONITOR_TRUSTED_PROXIES", value)

    with pytest.raises((ValidationError, SettingsError), match="trusted_proxies"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_limiter_keeps_addresses_still_limited_when_it_makes_room() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0], max_keys=2)
    limiter.retry_after("refilled")
    now[0] = 10.0
    spent = [limiter.retry_after("limited") for _ in range(3)]

    now[0] = 25.0  # the first bucket is full again (20 s to refill), the second is not
    limiter.retry_after("new")

    assert spent[:2] == [None, None]
    assert spent[2] is not None
    assert limiter.retry_after("limited") is None  # 1.5 tokens back after 15 s
    assert limiter.retry_after("limited") is not None

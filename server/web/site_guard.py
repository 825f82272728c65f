"""Keeps other web sites from driving the API through a visitor's browser.

- A websocket upgrade must come from the server's own origin or one of `CORS_ORIGINS`
  (browsers send `Origin` on every upgrade and do not apply CORS to websockets), auth on or off.
- With auth off the API trusts whoever reaches it, so it must be reachable only from this
  machine: a connection that arrived on an address other than loopback is refused (unless
  `ALLOW_UNAUTHENTICATED`), so is a `Host` that is not a loopback name or address (a page
  whose name was re-pointed at 127.0.0.1, DNS rebinding, sends its own name), and so is any
  request from a foreign `Origin`.

Refusals come before anything else runs: 403 (or 421 for a foreign `Host`) in the GraphQL
error shape; a refused websocket upgrade gets the same response where the server supports
denial responses, a plain 403 elsewhere.
"""

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from server.auth.exposure import is_loopback, unsafe_exposure
from server.auth.rejection import RejectionCode, RequestRejected
from server.settings import AuthMode, Settings

_DEFAULT_PORTS = ("80", "443")
_DENIAL = "websocket.http.response"


class SiteGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self._settings = settings
        self._auth_off = settings.auth is AuthMode.DISABLED
        self._allowed_origins = frozenset(_origin(origin) for origin in settings.cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await refusal.response()(scope, receive, send)
        elif _DENIAL in scope.get("extensions", {}):
            await WebSocket(scope, receive, send).send_denial_response(refusal.response())
        else:
            await send({"type": "websocket.close", "code": 1008})

    def refusal(self, scope: Scope) -> RequestRejected | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self._auth_off:
            exposure = self._exposure(scope)
            if exposure is not None:
                return RequestRejected(403, RejectionCode.FORBIDDEN, exposure)
            if not self._local_host(host, scope):
                return RequestRejected(
                    421,
                    RejectionCode.MISDIRECTED,
                    f"this server runs without authentication and answers only to loopback "
                    f"names and addresses, not to {host[:100]!r}",
                )
        origin = headers.get("origin")
        checks_origin = self._auth_off or scope["type"] == "websocket"
        if checks_origin and origin is not None and not self._allowed(origin, host):
            return RequestRejected(
                403,
                RejectionCode.FORBIDDEN,
                f"requests from {origin[:100]!r} are not allowed: only this server's own "
                "pages and JOBMONITOR_CORS_ORIGINS may use it from a browser",
            )
        return None

    def _exposure(self, scope: Scope) -> str | None:
        server = scope.get("server")
        if server is None:
            return None  # a Unix socket
        return unsafe_exposure(self._settings, str(server[0]))

    def _local_host(self, host: str, scope: Scope) -> bool:
        name = _hostname(host)
        if is_loopback(name) or name.endswith(".localhost"):
            return True
        # Serving beyond loopback on purpose: the address it listens on is no name to re-point.
        server = scope.get("server")
        return self._settings.allow_unauthenticated and server is not None and name == server[0]

    def _allowed(self, origin: str, host: str) -> bool:
        own = _origin(origin)
        return own in self._allowed_origins or own.partition("://")[2] == _netloc(host)


def _hostname(host: str) -> str:
    """`[::1]:8000` → `::1`, `Localhost:8000` → `localhost`; "" when it is no host at all."""
    try:
        return urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return ""


def _netloc(host: str) -> str:
    """host[:port] in lower case, without a default port (80, 443)."""
    host = host.strip().lower()
    if host.rfind(":") > host.rfind("]"):
        name, _, port = host.rpartition(":")
        if port in _DEFAULT_PORTS:
            return name
    return host


def _origin(origin: str) -> str:
    """`scheme://host[:port]` in lower case, without a default port."""
    scheme, _, host = origin.strip().lower().partition("://")
    return f"{scheme}://{_netloc(host)}"

"""The one place a connection becomes a principal: Bearer token, role, tenant, rate limit."""

from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from server.events import EventBus
from server.settings import AuthMode, Settings

from .authenticator import Authenticator
from .client_address import client_address, limit_key
from .principal import Principal
from .rate_limit import RateLimiter
from .rejection import RejectionCode, RequestRejected
from .watch import Revoked, TokenWatch

_BEARER = "bearer "
_SHORTEST_WATCH_SECONDS = 0.25
LOCAL_ACTOR = "local"
"""Who the events recorded with auth disabled name: the audit trail has no holes."""


class Gate:
    """Built once per app. With auth disabled everyone acts with full rights in the default
    tenant; otherwise a request needs `Authorization: Bearer <token>`."""

    def __init__(self, settings: Settings, authenticator: Authenticator, watch: TokenWatch) -> None:
        self._settings = settings
        self._authenticator = authenticator
        self._watch = watch
        self._limiter = RateLimiter(
            per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
        )
        self._strangers = RateLimiter(
            per_minute=settings.unauthenticated_rate_per_minute,
            burst=settings.unauthenticated_rate_burst,
        )

    @classmethod
    def over(
        cls,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
    ) -> "Gate":
        """A gate that looks tokens up in this database and hears of revocations on `bus`."""
        authenticator = Authenticator(session_factory, ttl=settings.token_cache_seconds)
        watch = TokenWatch(
            session_factory,
            authenticator,
            bus,
            interval=max(settings.token_cache_seconds, _SHORTEST_WATCH_SECONDS),
        )
        return cls(settings, authenticator, watch)

    async def close(self) -> None:
        await self._watch.close()

    @property
    def enabled(self) -> bool:
        return self._settings.auth is AuthMode.ENABLED

    def trusted(self) -> Principal:
        return Principal.trusted(self._settings.default_tenant, actor=LOCAL_ACTOR)

    async def admit(self, connection: HTTPConnection) -> Principal:
        """The principal of an HTTP request; raises RequestRejected (401, 429) otherwise.

        The GraphiQL page, which runs nothing, needs no token. (Websockets authenticate in
        `connection_init`, see `authenticate_params`.)"""
        if not self.enabled:
            return self.trusted()
        if _wants_ide(connection):
            return Principal.nobody()
        return await self.admit_token(connection)

    async def admit_token(self, connection: HTTPConnection) -> Principal:
        """The principal of a request that must carry a token whatever it accepts (a download
        has no page to render); raises RequestRejected (401, 429) otherwise."""
        if not self.enabled:
            return self.trusted()
        principal = await self._principal(connection.headers.get("authorization"))
        if principal is None:
            raise self.unauthenticated(connection)
        rejection = self.rate_limited(principal)
        if rejection is not None:
            raise rejection
        return principal

    def unauthenticated(self, connection: HTTPConnection) -> RequestRejected:
        """The refusal of a request without a valid token: 401, or 429 once its client
        address has sent too many such requests (guessing tokens, or a misconfigured
        client hammering the API)."""
        address = client_address(connection, self._settings.trusted_proxies)
        wait = self._strangers.retry_after(limit_key(address))
        if wait is not None:
            return RequestRejected.too_many(
                wait,
                f"too many requests without a valid token from {address}: "
                f"{self._settings.unauthenticated_rate_per_minute} a minute",
            )
        return RequestRejected(
            401,
            RejectionCode.UNAUTHENTICATED,
            "a valid API token is required: send `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def authenticate_params(self, params: object) -> Principal | None:
        """The principal named by a websocket's `connection_init` payload
        (`{"Authorization": "Bearer <token>"}`), or None."""
        if not self.enabled:
            return self.trusted()
        if not isinstance(params, Mapping):
            return None
        header = params.get("Authorization", params.get("authorization"))
        return await self._principal(header if isinstance(header, str) else None)

    async def still_admitted(self, params: object, principal: Principal) -> bool:
        """Whether the token a websocket authenticated with still works (a cached check)."""
        return await self.authenticate_params(params) == principal

    def watch(self, principal: Principal, on_revoked: Revoked) -> Callable[[], None]:
        """Call `on_revoked` when the principal's token is revoked (at once when the bus
        carries the notice, within `TOKEN_CACHE_SECONDS` otherwise); the returned function
        stops watching."""
        if principal.token_id is None:
            return _nothing
        return self._watch.watch(principal.token_id, on_revoked)

    def rate_limited(self, principal: Principal) -> RequestRejected | None:
        """Takes one operation from the token's bucket: None, or the refusal (429)."""
        if principal.token_id is None:
            return None
        wait = self._limiter.retry_after(principal.token_id)
        if wait is None:
            return None
        return RequestRejected.too_many(
            wait,
            f"rate limit exceeded for this token: "
            f"{self._settings.rate_limit_per_minute} requests a minute",
        )

    async def _principal(self, header: str | None) -> Principal | None:
        if header is None or not header.lower().startswith(_BEARER):
            return None
        return await self._authenticator.principal(header[len(_BEARER) :].strip())


def gate_of(connection: HTTPConnection) -> Gate:
    """The gate the app built at start-up."""
    gate: Gate = connection.app.state.gate
    return gate


def _wants_ide(connection: HTTPConnection) -> bool:
    """Mirrors Strawberry's own test for serving the GraphiQL page instead of executing."""
    accept = connection.headers.get("accept", "")
    return (
        connection.scope.get("method") == "GET"
        and "query" not in connection.query_params
        and ("text/html" in accept or "*/*" in accept)
    )


def _nothing() -> None:
    return None

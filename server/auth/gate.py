"""The one place a connection becomes a principal: Bearer token, role, tenant, rate limit."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from server.settings import AuthMode, Settings

from .authenticator import Authenticator
from .principal import Principal
from .rate_limit import RateLimiter
from .rejection import RejectionCode, RequestRejected

_BEARER = "bearer "
LOCAL_ACTOR = "local"
"""Who the events recorded with auth disabled name: the audit trail has no holes."""


class Gate:
    """Built once per app. With auth disabled everyone acts with full rights in the default
    tenant; otherwise a request needs `Authorization: Bearer <token>`."""

    def __init__(self, settings: Settings, authenticator: Authenticator) -> None:
        self._settings = settings
        self._authenticator = authenticator
        self._limiter = RateLimiter(
            per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
        )

    @classmethod
    def over(cls, settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> "Gate":
        """A gate that looks tokens up in this database."""
        authenticator = Authenticator(session_factory, ttl=settings.token_cache_seconds)
        return cls(settings, authenticator)

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
        principal = await self._principal(connection.headers.get("authorization"))
        if principal is None:
            raise RequestRejected(
                401,
                RejectionCode.UNAUTHENTICATED,
                "a valid API token is required: send `Authorization: Bearer <token>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        self._limit(principal)
        return principal

    async def authenticate_params(self, params: object) -> Principal | None:
        """The principal named by a websocket's `connection_init` payload
        (`{"Authorization": "Bearer <token>"}`), or None."""
        if not self.enabled:
            return self.trusted()
        if not isinstance(params, Mapping):
            return None
        header = params.get("Authorization", params.get("authorization"))
        return await self._principal(header if isinstance(header, str) else None)

    async def _principal(self, header: str | None) -> Principal | None:
        if header is None or not header.lower().startswith(_BEARER):
            return None
        return await self._authenticator.principal(header[len(_BEARER) :].strip())

    def _limit(self, principal: Principal) -> None:
        if principal.token_id is None:
            return
        wait = self._limiter.retry_after(principal.token_id)
        if wait is not None:
            seconds = max(1, round(wait + 0.5))
            raise RequestRejected(
                429,
                RejectionCode.RATE_LIMITED,
                f"rate limit exceeded for this token: "
                f"{self._settings.rate_limit_per_minute} requests a minute; "
                f"retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )


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

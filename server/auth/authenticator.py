"""Bearer tokens to principals, with a short cache so a request does not pay a lookup."""

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .principal import Principal
from .store import principal_for_digest
from .tokens import digest, well_formed

_MAX_ENTRIES = 4096


class Authenticator:
    """Remembers each valid token for `ttl` seconds; a revoked token stops working at most
    that long after `tokens revoke`, in every server process. Unknown tokens are not
    remembered, so garbage cannot fill the cache."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_factory = session_factory
        self._ttl = ttl
        self._clock = clock
        self._known: dict[str, tuple[float, Principal]] = {}

    async def principal(self, token: str) -> Principal | None:
        if not well_formed(token):
            return None
        key = digest(token)
        now = self._clock()
        cached = self._known.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = await principal_for_digest(self._session_factory, key)
        if principal is None:
            self._known.pop(key, None)
        elif self._ttl > 0:
            if len(self._known) >= _MAX_ENTRIES:
                self._known.clear()
            self._known[key] = (now + self._ttl, principal)
        return principal

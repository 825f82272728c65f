"""Bearer tokens to principals, with a short cache so a request does not pay a lookup."""

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .principal import Principal
from .store import principal_for_digest
from .tokens import digest, well_formed

_MAX_ENTRIES = 4096
V = TypeVar("V")


class Authenticator:
    """Remembers each valid token for `ttl` seconds, or until the event bus says it was
    revoked (`forget`); without that notice a revoked token stops working at most `ttl`
    seconds after `tokens revoke`, in every server process. A well-formed token that is
    unknown (or revoked) is remembered as such for `ttl` seconds too, so guessing costs no
    database read each time; tokens that are not even well-formed are refused unread.
    Each cache holds at most 4096 entries and is emptied when full."""

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
        self._unknown: dict[str, float] = {}
        self._forgotten = 0
        """Counts revocations heard of: a lookup that began before one does not cache what
        it read, since the row may have been read before the revocation committed."""

    async def principal(self, token: str) -> Principal | None:
        if not well_formed(token):
            return None
        key = digest(token)
        now = self._clock()
        cached = self._known.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self._unknown.get(key, now) > now:
            return None
        forgotten = self._forgotten
        principal = await principal_for_digest(self._session_factory, key)
        if principal is None:
            self._known.pop(key, None)
        if self._ttl > 0 and forgotten == self._forgotten:
            if principal is None:
                _remember(self._unknown, key, now + self._ttl)
            else:
                _remember(self._known, key, (now + self._ttl, principal))
        return principal

    def forget(self, token_id: int) -> None:
        """The token was found revoked: stop trusting it now."""
        self._forgotten += 1
        for key, (_, principal) in list(self._known.items()):
            if principal.token_id == token_id:
                del self._known[key]
                self._unknown[key] = self._clock() + self._ttl

    def forget_all(self) -> None:
        """Revocations may have been missed (the event bus reconnected): re-read every token."""
        self._forgotten += 1
        self._known.clear()


def _remember(cache: dict[str, V], key: str, value: V) -> None:
    if len(cache) >= _MAX_ENTRIES:
        cache.clear()
    cache[key] = value

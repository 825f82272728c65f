"""Open websockets learn within one interval that their token was revoked.

The tokens behind every open websocket of the process are re-read together, in one query per
interval (`TOKEN_CACHE_SECONDS`) however many sockets there are; each socket whose token no
longer works is called back (it closes with 4403), and the token leaves the cache at once.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .authenticator import Authenticator
from .store import live_token_ids

logger = logging.getLogger(__name__)
Revoked = Callable[[], None]


class TokenWatch:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        authenticator: Authenticator,
        *,
        interval: float,
    ) -> None:
        self._session_factory = session_factory
        self._authenticator = authenticator
        self._interval = interval
        self._watchers: dict[int, set[Revoked]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def watch(self, token_id: int, on_revoked: Revoked) -> Callable[[], None]:
        """Call `on_revoked` once the token stops working; the returned function unwatches."""
        self._watchers.setdefault(token_id, set()).add(on_revoked)
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_while_watched(), name="token-watch")

        def unwatch() -> None:
            watchers = self._watchers.get(token_id)
            if watchers is not None:
                watchers.discard(on_revoked)
                if not watchers:
                    del self._watchers[token_id]

        return unwatch

    async def close(self) -> None:
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper

    async def _sweep_while_watched(self) -> None:
        try:
            while self._watchers:
                await asyncio.sleep(self._interval)
                try:
                    await self._sweep()
                except Exception:
                    logger.exception("token watch: reading tokens failed; retrying")
        finally:
            if self._sweeper is asyncio.current_task():
                self._sweeper = None

    async def _sweep(self) -> None:
        token_ids = list(self._watchers)
        live = await live_token_ids(self._session_factory, token_ids)
        for token_id in token_ids:
            if token_id in live:
                continue
            self._authenticator.forget(token_id)
            for on_revoked in self._watchers.pop(token_id, set()):
                on_revoked()

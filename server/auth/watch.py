"""Revocations reach every process at once through the event bus, and open websockets close.

`tokens revoke` publishes a `TokenRevoked` notice after its commit; each process that hears
it drops the token from its cache and calls back the sockets it opened (they close with
4403). As a backstop for notices lost while the bus reconnected (a `Resync`) or for
processes that share no bus (SQLite, one process each), the tokens behind every open
websocket are also re-read together, in one query per interval (`TOKEN_CACHE_SECONDS`)
however many sockets there are.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.events import Delivery, EventBus, Resync, TokenRevoked

from .authenticator import Authenticator
from .store import live_token_ids

logger = logging.getLogger(__name__)
Revoked = Callable[[], None]


class TokenWatch:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        authenticator: Authenticator,
        bus: EventBus,
        *,
        interval: float,
    ) -> None:
        self._session_factory = session_factory
        self._authenticator = authenticator
        self._interval = interval
        self._watchers: dict[int, set[Revoked]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._sweep_due = asyncio.Event()
        self._unsubscribe = bus.subscribe(self._heard)

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
        self._unsubscribe()
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper

    async def _sweep_while_watched(self) -> None:
        try:
            while self._watchers:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._sweep_due.wait(), self._interval)
                self._sweep_due.clear()
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
            if token_id not in live:
                self._revoked(token_id)

    def _heard(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            if isinstance(delivery, TokenRevoked):
                self._revoked(delivery.token_id)
            elif isinstance(delivery, Resync):
                self._authenticator.forget_all()
                self._sweep_due.set()

    def _revoked(self, token_id: int) -> None:
        self._authenticator.forget(token_id)
        for on_revoked in self._watchers.pop(token_id, set()):
            on_revoked()

"""An event bus over PostgreSQL LISTEN/NOTIFY: every API replica and worker shares one stream.

Notifications carry ids only (see `wire`); subscribers read the rows. Local subscribers are
called at once; a process skips its own notifications when they come back from the server.
NOTIFY runs after the writer's commit, in its own short transaction, so the writer's commit
never waits on the notification queue lock; writers publishing at once share that
transaction. NOTIFY works through a transaction-mode pooler; LISTEN needs a session of its
own, on a direct URL when the engine's goes through one.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from server.observability.metrics import BUS_RECONNECTS

from . import wire
from .bus import InProcessBus, Listener
from .notices import Notice, Resync

CHANNEL = "jobmonitor_events"
RECONNECT_SECONDS = 1.0

logger = logging.getLogger(__name__)


class PostgresBus:
    def __init__(self, engine: AsyncEngine, *, listen_url: str | None = None) -> None:
        self._engine = engine
        url = make_url(listen_url) if listen_url is not None else engine.url
        self._dsn = url.set(drivername="postgresql").render_as_string(False)
        self._origin = uuid.uuid4().hex
        self._local = InProcessBus()
        self._connection: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._listened = False
        # Notices published and not sent yet; counts of all queued and all sent.
        self._outgoing: list[Notice] = []
        self._queued = 0
        self._sent = 0
        self._sending = asyncio.Lock()

    async def publish(self, notices: Sequence[Notice]) -> None:
        """Deliver locally, then NOTIFY; returns once the notices are sent. Writers that publish
        while a send is in flight have theirs sent together by the next one (group commit):
        one short transaction, and one take of the notification lock, for many writers."""
        if not notices:
            return
        self._local.deliver(notices)
        self._outgoing.extend(notices)
        self._queued += len(notices)
        ticket = self._queued
        async with self._sending:
            if self._sent >= ticket:
                return
            batch, self._outgoing = self._outgoing, []
            try:
                await self._notify(batch)
            except BaseException:
                self._outgoing[:0] = batch
                raise
            self._sent += len(batch)

    async def _notify(self, notices: Sequence[Notice]) -> None:
        async with self._engine.connect() as connection:
            for payload in wire.encode(self._origin, notices):
                await connection.execute(select(func.pg_notify(CHANNEL, payload)))
            await connection.commit()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._local.subscribe(listener)

    async def start(self) -> None:
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_listening(), name="postgres-bus")
        await self._connected.wait()

    @property
    def listening(self) -> bool:
        return self._connected.is_set()

    async def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
            self._keeper = None

    async def _keep_listening(self) -> None:
        """Hold one LISTEN connection, reconnecting when it drops."""
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError):
                logger.warning("event bus: cannot reach PostgreSQL, retrying", exc_info=True)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                await self._listen(connection)
                logger.warning("event bus: LISTEN connection lost, reconnecting")
                BUS_RECONNECTS.inc()
            finally:
                self._connected.clear()
                await _close_quietly(connection)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Deliver notifications until the connection ends. After a reconnection, whatever
        was notified while no connection listened is gone: subscribers are told to resync."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, self._received)
        if self._listened:
            self._local.deliver([Resync()])
        self._listened = True
        self._connected.set()
        await lost.wait()

    def _received(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        origin, notices = wire.decode(str(payload))
        if origin != self._origin:
            self._local.deliver(notices)


async def _close_quietly(connection: asyncpg.Connection) -> None:
    if not connection.is_closed():
        try:
            await asyncio.wait_for(connection.close(), timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            connection.terminate()

"""The live hub seen from a test: waiting until subscriptions are in place; the event bus's
LISTEN connection dropped."""

from sqlalchemy import text

from server.runtime import Runtime
from tests.support.waiting import eventually


async def streams_registered(runtime: Runtime, count: int = 1) -> None:
    """Wait until the server's live streams have registered with the hub."""
    await eventually(lambda: runtime.live.watching() >= count, 5.0)


async def drop_listen_connections(runtime: Runtime) -> None:
    """Ends the PostgreSQL event bus's LISTEN connection; the bus reconnects."""
    async with runtime.engine.connect() as connection:
        dropped = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            )
        )
    assert dropped == 1

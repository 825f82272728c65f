"""Status events become visible in sequence order.

On PostgreSQL a sequence value is taken at insert, not at commit, so without care a reader
could see event 11 committed while event 10 is still in flight, and a subscriber resuming
after 11 would never see 10. Writers of status events therefore take one transaction-scoped
advisory lock before inserting: commit order is sequence order, and every reader that tails
the table by sequence sees no gap. SQLite has a single writer, which gives the same order.
"""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

# An arbitrary constant that names the lock: "jm" "ev" in ASCII.
EVENT_ORDER_LOCK = 0x6A6D6576


async def lock_event_order(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(EVENT_ORDER_LOCK)))

"""Bulk inserts of plain rows, and the bookkeeping that explicit job numbers need."""

from collections.abc import Sequence

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.models import Agent, Base, Job, JobEvent, JobStep, LogLine, Workflow

from .generator import Batch
from .trail import Row

CHUNK = 5000
"""Rows per executemany: large enough to amortise the round trip, small enough to stream."""


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


WORKFLOWS = _table(Workflow)
AGENTS = _table(Agent)
JOBS = _table(Job)
STEPS = _table(JobStep)
EVENTS = _table(JobEvent)
LOG_LINES = _table(LogLine)


async def insert_rows(connection: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    statement = insert(table)
    for start in range(0, len(rows), CHUNK):
        await connection.execute(statement, rows[start : start + CHUNK])


async def insert_batch(connection: AsyncConnection, batch: Batch) -> None:
    """Jobs first: the other rows refer to them."""
    await insert_rows(connection, JOBS, batch.jobs)
    await insert_rows(connection, STEPS, batch.steps)
    await insert_rows(connection, EVENTS, batch.events)
    await insert_rows(connection, LOG_LINES, batch.log_lines)


async def ensure(
    connection: AsyncConnection, table: Table, key: str, tenant: str, rows: Sequence[Row]
) -> list[int]:
    """The ids of `rows`, found by their `key` column in the tenant; missing ones are added."""
    wanted = [row[key] for row in rows]
    ids = await _ids(connection, table, key, tenant, wanted)
    missing = [row for row in rows if row[key] not in ids]
    if missing:
        await insert_rows(connection, table, missing)
        ids = await _ids(connection, table, key, tenant, wanted)
    return [ids[value] for value in wanted]


async def _ids(
    connection: AsyncConnection, table: Table, key: str, tenant: str, values: Sequence[str]
) -> dict[str, int]:
    column = table.c[key]
    statement = select(column, table.c.id).where(table.c.tenant_id == tenant, column.in_(values))
    return dict((await connection.execute(statement)).all())


async def lock_jobs(connection: AsyncConnection) -> None:
    """On PostgreSQL, keep others from writing jobs until commit, as the numbers are explicit.

    SQLite needs nothing: it has a single writer, and a transaction that read before another
    wrote fails instead of writing.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(text("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE"))


async def next_job_number(connection: AsyncConnection) -> int:
    """Job numbers are global, whatever the tenant."""
    highest = await connection.scalar(select(func.max(JOBS.c.number)))
    return int(highest or 0) + 1


async def advance_job_numbers(connection: AsyncConnection) -> None:
    """Move PostgreSQL's sequence past explicitly inserted numbers; SQLite takes max + 1."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('jobs', 'number'),"
                " (SELECT max(number) FROM jobs))"
            )
        )

"""A job's whole log, read in keyset batches: each batch is one short statement, so an export
of a million lines holds neither a transaction nor more than one batch in memory."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Job, LogLine
from server.domain.enums import LogStream

EXPORT_BATCH = 5000

ExportedLine = Row[int, datetime, LogStream, int | None, int | None, str]
"""sequence, at, stream, step, attempt, message."""


@dataclass(frozen=True)
class LogSelection:
    """Which lines of a job to export: all, or only some streams, or one step's."""

    streams: Sequence[LogStream] = ()
    step: int | None = None


async def job_exists(session: AsyncSession, *, tenant: str, number: int) -> bool:
    found = await session.scalar(
        select(Job.number).where(Job.tenant_id == tenant, Job.number == number)
    )
    return found is not None


async def exported_lines(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    job_number: int,
    selection: LogSelection,
    batch: int = EXPORT_BATCH,
) -> AsyncIterator[Sequence[ExportedLine]]:
    """The selected lines, oldest first, `batch` at a time (plain rows, not ORM objects:
    building objects would cost more than the query)."""
    columns = select(
        LogLine.sequence,
        LogLine.at,
        LogLine.stream,
        LogLine.step,
        LogLine.attempt,
        LogLine.message,
    ).where(LogLine.job_number == job_number)
    if selection.streams:
        columns = columns.where(LogLine.stream.in_(selection.streams))
    if selection.step is not None:
        columns = columns.where(LogLine.step == selection.step)
    after = 0
    while True:
        async with session_factory() as session:
            statement = columns.where(LogLine.sequence > after).order_by(LogLine.sequence)
            rows = (await session.execute(statement.limit(batch))).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        after = rows[-1].sequence

"""Appending to a job's log inside a unit of work: lines numbered after the last one."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select

from server.db.models import Job, LogLine
from server.domain.enums import LogStream
from server.events import LogAppended

from .unit_of_work import UnitOfWork


async def add_log_lines(work: UnitOfWork, job: Job, lines: Sequence[tuple[LogStream, str]]) -> None:
    last = await work.session.scalar(
        select(func.max(LogLine.sequence)).where(LogLine.job_number == job.number)
    )
    now = datetime.now(UTC)
    for offset, (stream, message) in enumerate(lines, start=1):
        sequence = (last or 0) + offset
        work.session.add(
            LogLine(
                tenant_id=job.tenant_id,
                job_number=job.number,
                sequence=sequence,
                stream=stream,
                message=message,
                at=now,
            )
        )
        work.notify(LogAppended(tenant=job.tenant_id, job_number=job.number, sequence=sequence))

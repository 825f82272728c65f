"""Pages of a job's log, or of one step's: keyset on the line's sequence number."""

from strawberry import relay

from resolvers.context import Info
from server.domain.errors import InvalidArgument
from server.reads.cursors import decode_sequence_cursor, encode_sequence_cursor

from .enums import LogStream
from .events import LogConnection, LogLine, LogLineEdge

LOG_CURSOR_KIND = "log"
LOG_PAGE_SIZE = 200
LOG_PAGE_MAX = 1000


async def log_connection(
    info: Info,
    job_number: int,
    *,
    first: int | None,
    after: str | None,
    streams: list[LogStream] | None,
    step: int | None = None,
) -> LogConnection:
    limit = LOG_PAGE_SIZE if first is None else first
    if not 0 <= limit <= LOG_PAGE_MAX:
        raise InvalidArgument(f"`first` must be between 0 and {LOG_PAGE_MAX} (got {limit})")
    after_sequence = (
        decode_sequence_cursor(after, LOG_CURSOR_KIND, argument="after") if after else None
    )
    rows = await info.context.loaders.lists.log_lines(
        job_number, after=after_sequence, limit=limit + 1, streams=streams or (), step=step
    )
    edges = [
        LogLineEdge(
            cursor=encode_sequence_cursor(LOG_CURSOR_KIND, row.sequence),
            node=LogLine.from_row(row),
        )
        for row in rows[:limit]
    ]
    return LogConnection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=after_sequence is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )

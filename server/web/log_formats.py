"""How an exported log line is written: one JSON object per line, or one line of plain text."""

from collections.abc import Callable, Sequence
from enum import StrEnum

import orjson

from server.reads.log_export import ExportedLine


class LogFormat(StrEnum):
    JSONL = "jsonl"
    TEXT = "text"


def jsonl(rows: Sequence[ExportedLine]) -> bytes:
    """Lossless: every field of each line, its message exactly as written."""
    return b"".join(
        orjson.dumps(
            {
                "sequence": row.sequence,
                "at": row.at,
                "stream": row.stream,
                "step": row.step,
                "attempt": row.attempt,
                "message": row.message,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        for row in rows
    )


def text(rows: Sequence[ExportedLine]) -> bytes:
    """For reading: time, stream, step, message; a line break inside a message is written as
    `\\n`, so one exported line is always one log line."""
    return "".join(
        f"{row.at.isoformat()} {row.stream.value} "
        f"{'-' if row.step is None else row.step} "
        f"{_one_line(row.message)}\n"
        for row in rows
    ).encode()


def _one_line(message: str) -> str:
    return message.replace("\r", "\\r").replace("\n", "\\n")


ENCODERS: dict[LogFormat, Callable[[Sequence[ExportedLine]], bytes]] = {
    LogFormat.JSONL: jsonl,
    LogFormat.TEXT: text,
}
MEDIA_TYPES = {LogFormat.JSONL: "application/x-ndjson", LogFormat.TEXT: "text/plain; charset=utf-8"}

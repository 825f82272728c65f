"""Notices as small NOTIFY payloads: a few ids each, packed under PostgreSQL's 8000-byte limit."""

from collections.abc import Iterator, Sequence
from typing import Any, assert_never

import orjson

from .notices import JobChanged, JobDeleted, LogAppended, Notice, TokenRevoked

# PostgreSQL refuses payloads of 8000 bytes or more; keep room for the envelope.
MAX_PAYLOAD_BYTES = 7900
_JOB = "j"
_LOG = "l"
_TOKEN = "t"
_DELETED = "d"


def encode(origin: str, notices: Sequence[Notice]) -> Iterator[str]:
    """One or more payloads that together carry `notices`, each under the size limit."""
    envelope = len(orjson.dumps({"o": origin, "n": []}))
    batch: list[bytes] = []
    size = envelope
    for notice in notices:
        item = orjson.dumps(_pack(notice))
        if batch and size + len(item) + 1 > MAX_PAYLOAD_BYTES:
            yield _envelope(origin, batch)
            batch, size = [], envelope
        batch.append(item)
        size += len(item) + 1
    if batch:
        yield _envelope(origin, batch)


def decode(payload: str) -> tuple[str, list[Notice]]:
    """The origin of a payload and its notices; unknown kinds are skipped."""
    message: dict[str, Any] = orjson.loads(payload)
    notices: list[Notice] = []
    for kind, tenant, number, sequence in message["n"]:
        if kind == _JOB:
            notices.append(JobChanged(tenant=tenant, job_number=number, sequence=sequence))
        elif kind == _LOG:
            notices.append(LogAppended(tenant=tenant, job_number=number, sequence=sequence))
        elif kind == _TOKEN:
            notices.append(TokenRevoked(tenant=tenant, token_id=number))
        elif kind == _DELETED:
            notices.append(JobDeleted(tenant=tenant, job_number=number))
    return message["o"], notices


def _pack(notice: Notice) -> list[Any]:
    """A notice as [kind, tenant, number, sequence] (the number: a job's, or a token's id);
    anything else is a bug, not a log notice."""
    match notice:
        case JobChanged():
            return [_JOB, notice.tenant, notice.job_number, notice.sequence]
        case LogAppended():
            return [_LOG, notice.tenant, notice.job_number, notice.sequence]
        case TokenRevoked():
            return [_TOKEN, notice.tenant, notice.token_id, None]
        case JobDeleted():
            return [_DELETED, notice.tenant, notice.job_number, None]
        case _:
            assert_never(notice)


def _envelope(origin: str, items: list[bytes]) -> str:
    return orjson.dumps({"o": origin, "n": [orjson.Fragment(item) for item in items]}).decode()

"""Opaque keyset cursors: base64 of a small JSON document naming the ordering and the key."""

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from server.domain.enums import JobOrder
from server.domain.errors import InvalidArgument


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


def _decode(cursor: str, *, argument: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise InvalidArgument(
            f"`{argument}` is not a cursor this API issued: pass an endCursor or startCursor "
            "from an earlier page unchanged",
            field=argument,
        )
    return payload


def encode_job_cursor(order: JobOrder, created_at: datetime, number: int) -> str:
    return _encode({"o": order.value, "t": created_at.isoformat(), "n": number})


def decode_job_cursor(cursor: str, order: JobOrder, *, argument: str) -> tuple[datetime, int]:
    payload = _decode(cursor, argument=argument)
    if payload.get("o") != order.value:
        issued = payload.get("o", "another listing")
        raise InvalidArgument(
            f"`{argument}` was issued for ordering {issued} but this query orders by "
            f"{order.value}: start again without a cursor",
            field=argument,
        )
    try:
        return datetime.fromisoformat(payload["t"]), int(payload["n"])
    except (KeyError, TypeError, ValueError):
        raise InvalidArgument(f"`{argument}` is a damaged job cursor", field=argument) from None


def encode_sequence_cursor(kind: str, sequence: int) -> str:
    return _encode({"k": kind, "s": sequence})


def decode_sequence_cursor(cursor: str, kind: str, *, argument: str) -> int:
    payload = _decode(cursor, argument=argument)
    sequence = payload.get("s")
    if payload.get("k") != kind or not isinstance(sequence, int):
        raise InvalidArgument(f"`{argument}` is not a cursor of this {kind} list", field=argument)
    return sequence

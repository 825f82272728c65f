"""Bus notices as NOTIFY payloads: small, under PostgreSQL's limit, and read back whole."""

import pytest

from server.events import JobChanged, LogAppended, Notice, Resync
from server.events.wire import MAX_PAYLOAD_BYTES, decode, encode


def test_notices_round_trip_with_their_origin() -> None:
    notices: list[Notice] = [
        JobChanged(tenant="acme", job_number=7, sequence=41),
        JobChanged(tenant="acme", job_number=7),
        LogAppended(tenant="acme", job_number=7, sequence=3),
    ]
    (payload,) = encode("replica-1", notices)
    assert decode(payload) == ("replica-1", notices)


def test_many_notices_are_split_into_payloads_under_the_limit() -> None:
    notices: list[Notice] = [
        JobChanged(tenant=f"tenant-{n % 7:060d}", job_number=n, sequence=n) for n in range(2000)
    ]
    payloads = list(encode("replica-1", notices))
    assert len(payloads) > 1
    assert all(len(payload.encode()) < MAX_PAYLOAD_BYTES for payload in payloads)
    assert [notice for payload in payloads for notice in decode(payload)[1]] == notices


def test_anything_but_a_notice_is_refused_rather_than_sent_as_another_kind() -> None:
    with pytest.raises(AssertionError):
        list(encode("replica-1", [Resync()]))  # type: ignore[list-item]

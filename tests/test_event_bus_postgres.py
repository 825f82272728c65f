"""The PostgreSQL event bus under many writers at once: every notice reaches the other
processes, and writers publishing together share their NOTIFY transaction."""

import asyncio

import pytest
from sqlalchemy import event

from server.db.engine import create_engine
from server.events import JobChanged, Notice
from server.events.postgres import PostgresBus
from tests.support.waiting import eventually

pytestmark = pytest.mark.usefixtures("on_postgresql")
WRITERS = 40


async def test_notices_of_writers_publishing_at_once_all_arrive_in_fewer_transactions(
    database_url: str,
) -> None:
    # given two processes' buses on one database, one listening
    engine = create_engine(database_url)
    sender, receiver = PostgresBus(engine), PostgresBus(engine)
    received: list[Notice] = []
    receiver.subscribe(received.extend)
    await sender.start()
    await receiver.start()
    transactions = [0]

    def committed(_connection: object) -> None:
        transactions[0] += 1

    event.listen(engine.sync_engine, "commit", committed)
    try:
        # when many writers publish at once
        notices = [JobChanged(tenant="t", job_number=number) for number in range(WRITERS)]
        await asyncio.gather(*(sender.publish([notice]) for notice in notices))

        # then the other process gets every notice, sent in fewer transactions than writers
        def all_arrived() -> bool:
            assert len(received) == WRITERS
            assert set(received) == set(notices)
            return True

        await eventually(all_arrived, 10)
        assert 1 <= transactions[0] < WRITERS
    finally:
        event.remove(engine.sync_engine, "commit", committed)
        await sender.close()
        await receiver.close()
        await engine.dispose()

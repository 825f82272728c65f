"""Eager starts of coroutines (the websocket sends of the fan-out)."""

import asyncio

import pytest

from server.web.websocket import eager


async def _wait_then_record(event: asyncio.Event, log: list[str]) -> None:
    log.append("started")
    await event.wait()
    log.append("finished")


async def _record(log: list[str]) -> None:
    log.append("done")


async def _fail_after(event: asyncio.Event) -> None:
    await event.wait()
    raise ValueError("boom")


async def test_a_coroutine_that_does_not_wait_completes_in_start() -> None:
    log: list[str] = []
    assert eager.start(_record(log)) is eager.DONE
    assert log == ["done"]


async def test_a_coroutine_that_waits_is_finished_by_finish() -> None:
    event, log = asyncio.Event(), []
    coroutine = _wait_then_record(event, log)
    waiting = eager.start(coroutine)
    assert waiting is not eager.DONE
    assert log == ["started"]
    task = asyncio.create_task(eager.finish(coroutine, waiting))
    await asyncio.sleep(0.01)
    assert not task.done()
    event.set()
    await asyncio.wait_for(task, 1)
    assert log == ["started", "finished"]


async def test_finish_raises_what_the_coroutine_raises() -> None:
    event = asyncio.Event()
    coroutine = _fail_after(event)
    task = asyncio.create_task(eager.finish(coroutine, eager.start(coroutine)))
    event.set()
    with pytest.raises(ValueError, match="boom"):
        await asyncio.wait_for(task, 1)


async def test_cancelling_finish_closes_the_coroutine() -> None:
    event, log = asyncio.Event(), []
    coroutine = _wait_then_record(event, log)
    task = asyncio.create_task(eager.finish(coroutine, eager.start(coroutine)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert coroutine.cr_frame is None  # closed: nothing left waiting on the event
    assert log == ["started"]

"""Run a coroutine at once, up to its first real wait: Python 3.11 has no eager tasks.

A websocket send nearly always completes without waiting (the socket takes the bytes), so
sending to thousands of subscribers in one pass, each send started eagerly, avoids creating
a task per subscriber per event: the cost that dominated fan-out (the tasks themselves and
the garbage collections their numbers set off). Only a send that must wait for a slow client
becomes a task, via `finish`.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any

DONE = object()
"""`start` finished the coroutine without waiting."""


def start(coroutine: Coroutine[Any, Any, None]) -> object:
    """Step the coroutine until it completes (DONE) or waits (what it waits on); its
    exceptions propagate."""
    try:
        return coroutine.send(None)
    except StopIteration:
        return DONE


async def finish(coroutine: Coroutine[Any, Any, None], waiting: object) -> None:
    """Drive a coroutine that `start` left waiting on `waiting` to completion, as a task
    would: resume it whenever what it waits on is done."""
    try:
        while True:
            if isinstance(waiting, asyncio.Future):
                # Only wait: the coroutine reads the future's outcome itself when resumed.
                await asyncio.wait([waiting])
            elif waiting is None:
                await asyncio.sleep(0)  # it yielded to the loop once (`asyncio.sleep(0)`)
            else:
                raise RuntimeError(f"a coroutine waited on {waiting!r}, not on a future")
            try:
                waiting = coroutine.send(None)
            except StopIteration:
                return
    finally:
        coroutine.close()

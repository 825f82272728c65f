"""Waiting on a condition with a deadline: the one way the tests wait for something."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.02


async def eventually(
    condition: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,  # noqa: ASYNC109 - the deadline is what this helper is for
) -> T:
    """Call `condition` until it returns a true value (which is returned) or stops raising
    AssertionError; fail after `timeout` seconds with what it said last."""
    deadline = time.monotonic() + timeout
    while True:
        last: object
        try:
            result = condition()
            if inspect.isawaitable(result):
                # a check that hangs is bounded by the deadline too
                async with asyncio.timeout(max(deadline - time.monotonic(), POLL_SECONDS)):
                    value = await result
            else:
                value = result
        except AssertionError as error:
            last = error
        except TimeoutError:
            raise AssertionError(f"still not true after {timeout} s: a check hung") from None
        else:
            if value:
                return value  # type: ignore[return-value]
            last = value
        if time.monotonic() >= deadline:
            raise AssertionError(f"still not true after {timeout} s: {last}")
        await asyncio.sleep(POLL_SECONDS)

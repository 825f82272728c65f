"""Shared waits: a failure nobody is left to see must not be reported as unretrieved."""

import asyncio
from typing import Any


def mark_retrieved(future: "asyncio.Future[Any]") -> None:
    """A done-callback: fetch the exception, so asyncio does not log it as never retrieved
    when every waiter gave up (timed out) before the shared call failed."""
    if not future.cancelled():
        future.exception()

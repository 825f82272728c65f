"""Long-running processes: stop cleanly on Ctrl-C or SIGTERM, wait for Temporal to answer."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from temporalio.client import Client

from server.settings import Settings

from .client import connect

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


def run_until_stopped(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)`; `stop` is set on SIGINT or SIGTERM and `main` winds down."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(run())


async def connect_when_up(settings: Settings, *, identity: str) -> Client:
    """Connect, waiting for Temporal to come up (workers start in any order)."""
    while True:
        try:
            return await connect(settings, identity=identity)
        except RuntimeError as error:
            log.warning(
                "Temporal at %s is not answering (%s); retrying", settings.temporal_address, error
            )
            await asyncio.sleep(RECONNECT_SECONDS)

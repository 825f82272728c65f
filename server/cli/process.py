"""How a command runs: its settings, a runtime for its duration, a clean stop on Ctrl-C."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from server.runtime import Runtime, process_runtime
from server.settings import Settings

T = TypeVar("T")


def with_runtime(work: Callable[[Runtime], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run `work` on a migrated runtime of the environment's settings, closed at the end."""

    async def run() -> T:
        async with process_runtime(settings or Settings()) as runtime:
            return await work(runtime)

    return asyncio.run(run())


def temporal_settings() -> Settings:
    """The settings of a process that needs Temporal (exit 2 when none is configured)."""
    settings = Settings()
    if settings.temporal_address is None:
        typer.echo("error: set JOBMONITOR_TEMPORAL_ADDRESS (host:port of Temporal)", err=True)
        raise typer.Exit(2)
    log_to_stderr()
    return settings


def log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def run_until_stopped(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)`; `stop` is set on SIGINT or SIGTERM and `main` winds down."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(run())

"""How a command runs: its settings, the checks before it starts, a runtime for its duration,
a clean stop on Ctrl-C or SIGTERM within the grace."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from server.db import migrate
from server.db.engine import engine_for
from server.observability.logs import configure_logging
from server.runtime import Runtime, process_runtime
from server.settings import Settings
from server.shutdown import arm_hard_stop
from server.temporal.client import TemporalNotAnswering, connect_checked

T = TypeVar("T")


log = logging.getLogger(__name__)


def with_runtime(
    work: Callable[[Runtime], Awaitable[T]],
    settings: Settings | None = None,
    *,
    migrate_schema: bool = True,
) -> T:
    """Run `work` on a runtime of the environment's settings, closed at the end: migrated (the
    commands run by hand) or, with `migrate_schema=False`, checked to be current."""

    async def run() -> T:
        async with process_runtime(
            settings or Settings(), migrate_schema=migrate_schema
        ) as runtime:
            return await work(runtime)

    return asyncio.run(run())


async def preflight(settings: Settings, *, migrate_schema: bool, identity: str) -> None:
    """Before a server starts: migrate the schema (`migrate_schema`) or refuse one behind this
    code (SchemaBehind); refuse unreadable Temporal files or a Temporal that refuses us
    (StartupError). A Temporal that does not answer yet is only logged: the API starts
    without it (dispatches wait in the outbox)."""
    engine = engine_for(settings)
    try:
        await migrate.prepare(engine, migrate=migrate_schema)
    finally:
        await engine.dispose()
    if settings.temporal_address is None:
        return
    try:
        await connect_checked(settings, identity=identity)
    except TemporalNotAnswering as error:
        log.warning("Temporal at %s is not answering yet: %s", settings.temporal_address, error)


def temporal_settings() -> Settings:
    """The settings of a process that needs Temporal (exit 2 when none is configured)."""
    settings = Settings()
    if settings.temporal_address is None:
        typer.echo("error: set JOBMONITOR_TEMPORAL_ADDRESS (host:port of Temporal)", err=True)
        raise typer.Exit(2)
    configure_logging(settings)
    return settings


def run_until_stopped(
    main: Callable[[asyncio.Event], Awaitable[None]], *, grace_seconds: float
) -> None:
    """Run `main(stop)`; `stop` is set on SIGINT or SIGTERM and `main` winds down within
    `grace_seconds`, or the process exits a few seconds later anyway."""
    stop = asyncio.Event()

    def stopping() -> None:
        arm_hard_stop(grace_seconds)
        stop.set()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping)
        await main(stop)

    asyncio.run(run())

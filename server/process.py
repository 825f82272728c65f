"""A runtime for one command-line process: built from the settings, migrated, closed at the end."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.db import migrate
from server.runtime import Runtime
from server.settings import Settings


@asynccontextmanager
async def process_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(settings)
    try:
        await migrate.upgrade(runtime.engine)
        yield runtime
    finally:
        await runtime.close()

"""Connecting to Temporal, from the settings; never at import time."""

import asyncio
import logging

from temporalio.client import Client
from temporalio.service import RetryConfig

from server.settings import Settings

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0
# Fail fast when Temporal is down: callers keep work in the outbox and try again later.
RETRY = RetryConfig(max_retries=2, initial_interval_millis=100, max_interval_millis=500)


async def connect(settings: Settings, *, identity: str | None = None, lazy: bool = False) -> Client:
    """A client for the configured Temporal. `lazy` connects on first use (and keeps trying on
    later calls), for callers that must start while Temporal is down."""
    if settings.temporal_address is None:
        raise ValueError("JOBMONITOR_TEMPORAL_ADDRESS is not set")
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        identity=identity,
        retry_config=RETRY,
        lazy=lazy,
    )


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

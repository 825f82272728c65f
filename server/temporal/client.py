"""Connecting to Temporal, from the settings; never at import time."""

from temporalio.client import Client
from temporalio.service import RetryConfig

from server.settings import Settings

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

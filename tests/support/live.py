"""The live hub seen from a test: waiting until subscriptions are in place."""

from server.runtime import Runtime
from tests.support.waiting import eventually


async def streams_registered(runtime: Runtime, count: int = 1) -> None:
    """Wait until the server's live streams have registered with the hub."""
    await eventually(lambda: runtime.live.watching() >= count, 5.0)

"""The next run times of schedules, asked of the orchestrator for all schedules of a page at
once (one describe each, concurrently)."""

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Protocol

from strawberry.dataloader import DataLoader


class NextRunTimes(Protocol):
    def __call__(self, *, key: str, count: int) -> Awaitable[list[datetime]]: ...


def schedule_times_loader(
    next_run_times: NextRunTimes,
) -> DataLoader[tuple[str, int], list[datetime]]:
    """Keys are (the schedule's orchestrator key, how many times)."""

    async def load(keys: list[tuple[str, int]]) -> list[list[datetime]]:
        return list(
            await asyncio.gather(*(next_run_times(key=key, count=count) for key, count in keys))
        )

    return DataLoader(load)

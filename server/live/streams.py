"""The live streams behind the four subscriptions.

Each stream registers with the hub before it reads anything, so whatever commits while it
reads is also waiting in its inbox; sequence numbers drop what both paths delivered. Reads
are short sessions of their own: nothing is held open between two events.
"""

import asyncio
from collections.abc import AsyncIterator
from enum import Enum
from functools import partial

from server.db.models import Job, LogLine
from server.domain.enums import JobStatus
from server.domain.errors import NotFound
from server.domain.filters import JobFilter
from server.reads import jobs, rows, status_events

from .hub import LiveHub, StatusChange

REPLAY_PAGE = 500
LOG_PAGE = 500


class Sharing(Enum):
    """Whether subscribers of the same stream may share one run of it (the websocket endpoint
    decides from each subscription's entry in `resolvers.subscription.SHARING`)."""

    NEVER = "never"
    """Every subscriber runs its own stream (it replays history of its own)."""
    LIVE = "live"
    """Shared, unless an `after` argument asks for a replay of missed events."""
    LATEST = "latest"
    """Shared; a subscriber that joins first gets the latest value the others got."""


async def status_changes(
    hub: LiveHub, *, tenant: str, job_filter: JobFilter, after: int | None
) -> AsyncIterator[StatusChange]:
    """Every status change of matching jobs; with `after`, the missed ones first."""
    async with hub.status_feed(tenant, job_filter) as feed:
        last = after
        if last is not None:
            while True:
                page = await hub.read(
                    partial(
                        status_events.matching_events_after,
                        tenant=tenant,
                        job_filter=job_filter,
                        after=last,
                        limit=REPLAY_PAGE,
                    )
                )
                for event, job in page:
                    last = event.sequence
                    yield StatusChange(event, job)
                if len(page) < REPLAY_PAGE:
                    break
        while True:
            for change in await feed.take():
                if last is None or change.sequence > last:
                    last = change.sequence
                    yield change


async def job_updates(hub: LiveHub, *, tenant: str, number: int) -> AsyncIterator[Job]:
    """The job each time anything about it changes; many quick changes push its latest state.
    Ends when the job is deleted."""
    async with hub.job_signal(tenant, number) as signal:
        await _existing_job(hub, tenant, number)
        while True:
            await signal.wait()
            job = await _job(hub, tenant, number)
            if job is None:
                return
            yield job


async def log_lines(
    hub: LiveHub, *, tenant: str, number: int, after: int | None, step: int | None = None
) -> AsyncIterator[LogLine]:
    """The job's log lines (or one step's) after `after` (all of them without it), then each
    new one."""
    async with hub.log_signal(tenant, number) as signal:
        await _existing_job(hub, tenant, number)
        last = after
        while True:
            page = await hub.read(
                partial(
                    rows.log_lines,
                    job_number=number,
                    after=last,
                    limit=LOG_PAGE,
                    streams=(),
                    step=step,
                )
            )
            for line in page:
                last = line.sequence
                yield line
            if len(page) < LOG_PAGE:
                await signal.wait()


async def status_counts(
    hub: LiveHub, *, tenant: str, job_filter: JobFilter
) -> AsyncIterator[dict[JobStatus, int]]:
    """The tab counts now, then whenever they change, at most once per `counts_interval`."""
    async with hub.counts_signal(tenant) as signal:
        previous: dict[JobStatus, int] | None = None
        while True:
            counts = await hub.read(
                partial(jobs.count_by_status, tenant=tenant, job_filter=job_filter)
            )
            if counts != previous:
                previous = counts
                yield counts
            await signal.wait()
            await asyncio.sleep(hub.counts_interval)


async def _job(hub: LiveHub, tenant: str, number: int) -> Job | None:
    found = await hub.read(partial(rows.jobs_by_number, tenant=tenant, numbers=[number]))
    return found.get(number)


async def _existing_job(hub: LiveHub, tenant: str, number: int) -> Job:
    job = await _job(hub, tenant, number)
    if job is None:
        raise NotFound(f"job #{number} does not exist", field="id")
    return job

"""Adding a deterministic demo data set to a tenant of a migrated database."""

import gc
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.status_counts import rebuild_status_counts

from . import writer
from .generator import DemoData

BATCH_JOBS = 5000


@dataclass(frozen=True)
class SeedReport:
    """What one seeding added; `workflows` and `agents` count those used, new or reused."""

    tenant: str
    workflows: int
    agents: int
    jobs: int
    steps: int
    events: int
    log_lines: int
    seconds: float


async def seed_database(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    tenant: str = "default",
    jobs: int,
    agents: int = 8,
    workflows: int = 6,
    seed: int = 1,
    now: datetime | None = None,
) -> SeedReport:
    """Add `jobs` jobs, with their steps, events and log lines, to the tenant.

    Workflows and agents the tenant already has (same slug, same name) are reused; jobs
    are numbered after the highest existing number. The same seed gives the same rows
    apart from numbers and ids. Times are laid out relative to `now`, by default the
    current time rounded down to the hour, so the data always looks recent: pass `now`
    to make the times repeat too. Everything happens in one transaction, which also
    recomputes the tenant's per-status counts.
    """
    if jobs < 0 or agents < 1 or workflows < 1:
        raise ValueError("seeding needs jobs >= 0, agents >= 1 and workflows >= 1")
    if now is not None and now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    clock = time.perf_counter()
    horizon = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    data = DemoData(
        random.Random(seed),
        tenant=tenant,
        jobs=jobs,
        agents=agents,
        workflows=workflows,
        horizon=horizon,
    )
    with _no_cyclic_gc():
        async with session_factory() as session, session.begin():
            steps, events, log_lines = await _write(session, data, tenant)
    return SeedReport(
        tenant=tenant,
        workflows=workflows,
        agents=agents,
        jobs=jobs,
        steps=steps,
        events=events,
        log_lines=log_lines,
        seconds=time.perf_counter() - clock,
    )


async def _write(session: AsyncSession, data: DemoData, tenant: str) -> tuple[int, int, int]:
    """Insert everything; return how many steps, events and log lines there were."""
    connection = await session.connection()
    await writer.lock_jobs(connection)
    workflow_ids = await writer.ensure(
        connection, writer.WORKFLOWS, "slug", tenant, data.workflow_rows
    )
    agent_ids = await writer.ensure(connection, writer.AGENTS, "name", tenant, data.agent_rows)
    batches = data.batches(
        first_number=await writer.next_job_number(connection),
        workflow_ids=workflow_ids,
        agent_ids=agent_ids,
        size=BATCH_JOBS,
    )
    steps = events = log_lines = 0
    for batch in batches:
        await writer.insert_batch(connection, batch)
        steps += len(batch.steps)
        events += len(batch.events)
        log_lines += len(batch.log_lines)
    await writer.advance_job_numbers(connection)
    await rebuild_status_counts(session, tenant)
    return steps, events, log_lines


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cycle collector, which otherwise keeps rescanning the millions of fresh,
    acyclic row dicts; reference counting still frees them as each batch is written."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

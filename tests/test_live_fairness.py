"""The live hub serves every tenant's subscribers in turn: one tenant's many filters cannot
hold up another tenant's delivery."""

from contextlib import AsyncExitStack

import pytest

from server.db.models import Job, JobEvent
from server.domain.enums import JobStatus
from server.domain.filters import JobFilter
from server.live.hub import LiveHub, StatusChange
from server.runtime import Runtime

BUSY_FILTERS = 40
CONCURRENCY = 2


def change(tenant: str, number: int) -> StatusChange:
    event = JobEvent(
        tenant_id=tenant,
        job_number=number,
        sequence=number,
        from_status=JobStatus.PENDING,
        to_status=JobStatus.RUNNING,
    )
    return StatusChange(event, Job(tenant_id=tenant, number=number))


async def test_a_tenant_with_many_filters_delays_another_by_one_round_at_most(
    runtime: Runtime, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy, quiet = f"{tenant}-busy", f"{tenant}-quiet"
    hub = LiveHub(runtime.session_factory, runtime.bus, query_concurrency=CONCURRENCY)
    queried: list[str] = []
    real_matching = hub._matching

    async def recording(
        tenant: str, job_filter: JobFilter, changes: list[StatusChange]
    ) -> set[int]:
        queried.append(tenant)
        return await real_matching(tenant, job_filter, changes)

    monkeypatch.setattr(hub, "_matching", recording)
    try:
        async with AsyncExitStack() as stack:
            # given a busy tenant with many filters, subscribed first, and a quiet one
            for n in range(BUSY_FILTERS):
                await stack.enter_async_context(hub.status_feed(busy, JobFilter(search=f"x{n}")))
            await stack.enter_async_context(hub.status_feed(quiet, JobFilter(search="y")))

            # when a batch of changes of both tenants is sorted among the subscribers
            await hub._dispatch([change(busy, 1), change(quiet, 2)])

        # then the quiet tenant's filter is queried in the first round, not after the 40
        ours = [name for name in queried if name in (busy, quiet)]
        assert sorted(ours) == [busy] * BUSY_FILTERS + [quiet]
        assert ours.index(quiet) < CONCURRENCY
    finally:
        await hub.close()

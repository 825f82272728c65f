"""`jobmonitor reconcile`: disagreements between our job statuses and Temporal's, and repairs."""

import asyncio
import os
from typing import Any

from server.db.models import pipeline_id
from server.domain.enums import JobStatus
from server.runtime import Runtime
from server.timeline.reconcile import reconcile
from tests.support.factories import build_world
from tests.support.processes import JOBMONITOR
from tests.support.timeline import Probe, unique_number
from tests.support.waiting import eventually


def _over(runtime: Runtime) -> dict[str, Any]:
    """What `reconcile` reads and writes through, from the runtime."""
    return {
        "session_factory": runtime.session_factory,
        "sources": runtime.timeline,
        "execution": runtime.execution,
    }


async def given_jobs(runtime: Runtime, tenant: str, statuses: dict[int, JobStatus]) -> None:
    specs = [
        {"number": number, "status": status, "temporal_workflow_id": pipeline_id(number)}
        for number, status in statuses.items()
    ]
    await build_world(runtime.session_factory, tenant, specs)


async def test_reconcile_lists_then_repairs_jobs_whose_workflow_ended(
    timeline_runtime: Runtime, tenant: str, probe: Probe
) -> None:
    # given jobs still running here whose workflows completed, failed or were terminated,
    # and jobs that agree with Temporal or never reached it
    completed, failed, terminated, agreeing, absent = (unique_number() for _ in range(5))
    await asyncio.gather(probe.run(["ok"], number=completed), probe.run(["fail"], number=failed))
    await probe.run(["ok"], number=agreeing)
    stuck = await probe.start(["block"], number=terminated)
    await stuck.terminate("lost")
    await given_jobs(
        timeline_runtime,
        tenant,
        {
            completed: JobStatus.RUNNING,
            failed: JobStatus.RUNNING,
            terminated: JobStatus.WAITING,
            agreeing: JobStatus.COMPLETED,
            absent: JobStatus.PENDING,
        },
    )
    await wait_until_closed(timeline_runtime, tenant, 3)
    # when reconcile lists them
    listed = await reconcile(**_over(timeline_runtime), tenant=tenant, repair=False)
    # then each one it can repair says what it would become, and nothing changed yet
    assert {(f.number, f.mismatch, f.repair, f.outcome) for f in listed} == {
        (completed, "portal says running, orchestrator says COMPLETED", JobStatus.COMPLETED, None),
        (failed, "portal says running, orchestrator says FAILED", JobStatus.FAILED, None),
        (terminated, "portal says waiting, orchestrator says TERMINATED", JobStatus.FAILED, None),
    }
    # when it repairs them
    repaired = await reconcile(**_over(timeline_runtime), tenant=tenant, repair=True)
    # then the jobs end as the orchestrator recorded, and nothing disagrees any more
    assert {(f.number, f.outcome) for f in repaired} == {
        (completed, "repaired"),
        (failed, "repaired"),
        (terminated, "repaired"),
    }
    assert await reconcile(**_over(timeline_runtime), tenant=tenant, repair=False) == []


async def wait_until_closed(runtime: Runtime, tenant: str, count: int) -> None:
    """Visibility is eventually consistent: wait until reconcile sees every ended run."""

    async def all_closed() -> bool:
        return len(await reconcile(**_over(runtime), tenant=tenant, repair=False)) >= count

    await eventually(all_closed, 10)


async def test_the_command_lists_and_exits_1_while_disagreements_are_left(
    timeline_runtime: Runtime, tenant: str, probe: Probe
) -> None:
    number = unique_number()
    await probe.run(["ok"], number=number)
    await given_jobs(timeline_runtime, tenant, {number: JobStatus.RUNNING})
    await wait_until_closed(timeline_runtime, tenant, 1)
    settings = timeline_runtime.settings
    env = {
        **os.environ,
        "JOBMONITOR_DATABASE_URL": settings.database_url,
        "JOBMONITOR_TEMPORAL_ADDRESS": settings.temporal_address or "",
    }
    process = await asyncio.create_subprocess_exec(
        JOBMONITOR,
        "reconcile",
        "--tenant",
        tenant,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert out.decode().splitlines() == [
        f"job #{number} [{pipeline_id(number)}]: portal says running, orchestrator says "
        "COMPLETED -> COMPLETED",
        "1 disagreement(s), 0 repaired",
        "0 schedule(s) on one side only",
    ], err.decode()
    assert process.returncode == 1

"""`jobmonitor reconcile`: the jobs whose status disagrees with their Temporal workflow's, and
the repair of those still open here whose workflow has ended.

Our database is the authority for a job's status; the orchestrator's word only repairs a job
the workflow can no longer move (it ended without recording the job's end, e.g. it was
terminated). Other disagreements are listed for a person to look at.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Job, pipeline_id
from server.domain.enums import JobStatus
from server.domain.errors import DomainError
from server.domain.rules import FINAL_STATUSES
from server.services.execution import ExecutionService

from .mismatch import status_mismatch
from .runs import RUNNING, RunSummary
from .sources import TimelineSources

CHUNK = 200


@dataclass(frozen=True)
class Finding:
    number: int
    workflow_id: str
    mismatch: str
    repair: JobStatus | None
    """What `--repair` records; None when it is for a person to decide."""
    outcome: str | None = None
    """After a repair: what happened."""

    def line(self) -> str:
        action = f"-> {self.repair.value}" if self.repair else "-> needs a person"
        done = f" ({self.outcome})" if self.outcome else ""
        return f"job #{self.number} [{self.workflow_id}]: {self.mismatch} {action}{done}"


class TemporalNotConfigured(Exception):
    """Reconciling needs JOBMONITOR_TEMPORAL_ADDRESS."""


async def reconcile(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    sources: TimelineSources | None,
    execution: ExecutionService,
    tenant: str,
    repair: bool,
) -> list[Finding]:
    """Every disagreement of the tenant's jobs; with `repair`, also records the orchestrator's
    end on the jobs still open here. Raises TemporalUnreachable or TemporalNotConfigured."""
    if sources is None:
        raise TemporalNotConfigured("JOBMONITOR_TEMPORAL_ADDRESS is not set")
    findings: list[Finding] = []
    async for jobs in _jobs(session_factory, tenant):
        for job, run in await _runs(sources, jobs):
            finding = await _finding(sources, job, run)
            if finding is not None and repair and finding.repair is not None:
                finding = await _repair(execution, tenant, finding, finding.repair)
            if finding is not None:
                findings.append(finding)
    return findings


async def _jobs(
    session_factory: async_sessionmaker[AsyncSession], tenant: str
) -> AsyncIterator[list[Job]]:
    after = 0
    while True:
        async with session_factory() as session:
            jobs = list(
                await session.scalars(
                    select(Job)
                    .where(Job.tenant_id == tenant, Job.number > after)
                    .order_by(Job.number)
                    .limit(CHUNK)
                )
            )
        if not jobs:
            return
        yield jobs
        after = jobs[-1].number


async def _runs(sources: TimelineSources, jobs: list[Job]) -> list[tuple[Job, RunSummary]]:
    ids = {job.number: job.temporal_workflow_id or pipeline_id(job.number) for job in jobs}
    found = await sources.summaries.lookup(list(ids.values()))
    pairs = []
    for job in jobs:
        run = found[ids[job.number]]
        if isinstance(run, BaseException):
            raise run
        if isinstance(run, RunSummary):
            pairs.append((job, run))
    return pairs


async def _finding(sources: TimelineSources, job: Job, run: RunSummary) -> Finding | None:
    mismatch = status_mismatch(job.status, job.completed_at, run, now=datetime.now(UTC))
    if mismatch is None:
        return None
    target = None
    if job.status not in FINAL_STATUSES and run.closed:
        result = await sources.gateway.result(run) if run.status == "COMPLETED" else None
        target = repair_status(run.status, result)
    return Finding(job.number, run.workflow_id, mismatch, target)


async def _repair(
    execution: ExecutionService, tenant: str, finding: Finding, target: JobStatus
) -> Finding:
    error = None if target is JobStatus.COMPLETED else f"reconciled: {finding.mismatch}"
    try:
        # The slot it frees is handed out with it; the agents' heartbeats wake the job that got
        # it (this command holds no worker to signal from).
        await execution.finish(
            tenant=tenant, number=finding.number, status=target, error=error, agent_name=None
        )
    except DomainError as refused:
        return replace(finding, outcome=f"not repaired: {refused.message}")
    return replace(finding, outcome="repaired")


_ENDED_BADLY = {"FAILED", "TIMED_OUT", "TERMINATED"}


def repair_status(run_status: str, result: str | None) -> JobStatus | None:
    """The job's end as the orchestrator recorded it, or None when it cannot tell.

    The job workflow fails with a failed job and is cancelled with a cancelled one; a
    COMPLETED run returns COMPLETED, or ALREADY_ENDED when Init found the job had ended, so its
    `result` says which.
    """
    if run_status == RUNNING:
        return None
    if run_status == "COMPLETED":
        return JobStatus(result) if result is not None and result in JobStatus.__members__ else None
    if run_status == "CANCELLED":
        return JobStatus.CANCELLED
    return JobStatus.FAILED if run_status in _ENDED_BADLY else None

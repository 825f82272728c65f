"""Rows with exactly the values a test needs, written straight to the database, and read back
from it (never from the objects written)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Agent, Job, JobEvent, JobStep, LogLine, Workflow
from server.db.status_counts import rebuild_status_counts
from server.domain.enums import AgentStatus, JobStatus, LogStream, StepStatus
from server.runtime import Runtime

BASE_TIME = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    """What `build_world` made: workflows and agents by name, jobs in creation order."""

    workflows: dict[str, Workflow]
    agents: dict[str, Agent]
    jobs: list[Job]


async def build_world(
    session_factory: async_sessionmaker[AsyncSession],
    tenant: str,
    job_specs: list[dict[str, Any]],
) -> World:
    """Two workflows (one with a legacy alias), two agents, and one job per spec.

    A spec may set any Job column plus `workflow`/`agent` by name; jobs are one minute apart
    unless a spec sets `created_at`.
    """
    async with session_factory() as session, session.begin():
        workflows = {
            "se-rca-fix": Workflow(
                tenant_id=tenant,
                slug="se-rca-fix",
                display_name="SE Rca Fix",
                aliases=["agent_se_rca_fix"],
                created_at=BASE_TIME,
            ),
            "code-review": Workflow(
                tenant_id=tenant,
                slug="code-review",
                display_name="Code Review",
                aliases=[],
                created_at=BASE_TIME,
            ),
        }
        agents = {
            name: Agent(tenant_id=tenant, name=name, status=AgentStatus.ONLINE)
            for name in ("agent-01", "agent-02")
        }
        session.add_all([*workflows.values(), *agents.values()])
        await session.flush()
        jobs = []
        for offset, spec in enumerate(job_specs):
            spec = dict(spec)
            workflow = workflows[spec.pop("workflow", "se-rca-fix")]
            agent_name = spec.pop("agent", "agent-01")
            job = Job(
                tenant_id=tenant,
                workflow_id=workflow.id,
                agent_id=agents[agent_name].id if agent_name else None,
                status=spec.pop("status", JobStatus.COMPLETED),
                created_at=spec.pop("created_at", BASE_TIME + timedelta(minutes=offset)),
                input=spec.pop("input", {}),
                step_count=spec.pop("step_count", 0),
                **spec,
            )
            session.add(job)
            jobs.append(job)
        await session.flush()
        await rebuild_status_counts(session, tenant)
    return World(workflows=workflows, agents=agents, jobs=jobs)


async def add_details(
    session_factory: async_sessionmaker[AsyncSession], job: Job, *, steps: int, logs: int
) -> None:
    """Steps (the last one retried once), a status event and log lines on all streams."""
    streams = list(LogStream)
    async with session_factory() as session, session.begin():
        for index in range(steps):
            session.add(
                JobStep(
                    tenant_id=job.tenant_id,
                    job_number=job.number,
                    index=index,
                    name=f"step-{index}",
                    status=StepStatus.COMPLETED,
                    attempt=2 if index == steps - 1 else 1,
                    started_at=BASE_TIME,
                    completed_at=BASE_TIME + timedelta(seconds=5),
                )
            )
        session.add(
            JobEvent(
                tenant_id=job.tenant_id,
                job_number=job.number,
                from_status=None,
                to_status=job.status,
                at=job.created_at,
                actor="system",
            )
        )
        for sequence in range(1, logs + 1):
            session.add(
                LogLine(
                    tenant_id=job.tenant_id,
                    job_number=job.number,
                    sequence=sequence,
                    stream=streams[sequence % len(streams)],
                    message=f"line {sequence}",
                    at=job.created_at,
                )
            )


@dataclass(frozen=True)
class StoredJob:
    """A job as the database holds it now."""

    status: JobStatus
    version: int
    events: int


async def stored_job(runtime: Runtime, number: int) -> StoredJob:
    """Job `number` read afresh from the database, with how many status events it has."""
    async with runtime.session_factory() as session:
        job = await session.get_one(Job, number)
        events = await session.scalar(
            select(func.count()).select_from(JobEvent).where(JobEvent.job_number == number)
        )
    return StoredJob(status=job.status, version=job.version, events=int(events or 0))


async def bulk_log_lines(
    session_factory: async_sessionmaker[AsyncSession], job: Job, count: int, *, batch: int = 20_000
) -> None:
    """`count` lines for `job` written in a few multi-row inserts: line n is on stream
    n % 3, of step n % 4, with message `line n`."""
    streams = list(LogStream)
    for start in range(1, count + 1, batch):
        async with session_factory() as session, session.begin():
            await session.execute(
                insert(LogLine),
                [
                    {
                        "tenant_id": job.tenant_id,
                        "job_number": job.number,
                        "sequence": n,
                        "step": n % 4,
                        "attempt": 1,
                        "stream": streams[n % len(streams)],
                        "message": f"line {n}",
                        "at": BASE_TIME + timedelta(milliseconds=n),
                    }
                    for n in range(start, min(start + batch, count + 1))
                ],
            )

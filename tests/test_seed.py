"""The demo-data seeder, on both backends (through the shared `shared_runtime` fixture)."""

import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import (
    Agent,
    Job,
    JobEvent,
    JobStatusCount,
    JobStep,
    LogLine,
    Workflow,
    pipeline_id,
)
from server.domain.enums import AgentStatus, EffortLevel, JobStatus, LogStream, StepStatus
from server.domain.rules import can_transition
from server.runtime import Runtime
from server.seed import SeedReport, seed_database
from server.seed.catalog import display_name, workflow_specs

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
JOBS = 300
LIVE = frozenset({JobStatus.RUNNING, JobStatus.WAITING, JobStatus.PAUSED})
QUEUED = frozenset({JobStatus.SCHEDULED, JobStatus.PENDING})

Factory = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Content:
    """A tenant's jobs in number order, and their steps, events and log lines by number."""

    jobs: list[Job]
    steps: dict[int, list[JobStep]]
    events: dict[int, list[JobEvent]]
    logs: dict[int, list[LogLine]]


@dataclass(frozen=True)
class Seeded(Content):
    factory: Factory
    tenant: str
    report: SeedReport


def new_tenant() -> str:
    return f"seed-{uuid.uuid4().hex[:10]}"


async def load(factory: Factory, tenant: str) -> Content:
    async with factory() as session:
        jobs = list(
            await session.scalars(select(Job).where(Job.tenant_id == tenant).order_by(Job.number))
        )
        steps: dict[int, list[JobStep]] = defaultdict(list)
        for step in await session.scalars(
            select(JobStep).where(JobStep.tenant_id == tenant).order_by(JobStep.index)
        ):
            steps[step.job_number].append(step)
        events: dict[int, list[JobEvent]] = defaultdict(list)
        for event in await session.scalars(
            select(JobEvent).where(JobEvent.tenant_id == tenant).order_by(JobEvent.sequence)
        ):
            events[event.job_number].append(event)
        logs: dict[int, list[LogLine]] = defaultdict(list)
        for line in await session.scalars(
            select(LogLine).where(LogLine.tenant_id == tenant).order_by(LogLine.sequence)
        ):
            logs[line.job_number].append(line)
    return Content(jobs, steps, events, logs)


@pytest.fixture(scope="module")
async def seeded(shared_runtime: Runtime) -> Seeded:
    """One tenant seeded with JOBS jobs, shared by the read-only checks of this module."""
    tenant = new_tenant()
    report = await seed_database(
        shared_runtime.session_factory, tenant=tenant, jobs=JOBS, seed=7, now=NOW
    )
    content = await load(shared_runtime.session_factory, tenant)
    return Seeded(
        **vars(content), factory=shared_runtime.session_factory, tenant=tenant, report=report
    )


_NUMBER = re.compile(r"(#|pipeline-job-)\d+")


def _text(value: str | None) -> str | None:
    return None if value is None else _NUMBER.sub(r"\1N", value)


async def snapshot(factory: Factory, tenant: str) -> list[tuple[Any, ...]]:
    """The tenant's seeded content, with job numbers made relative to the first one."""
    async with factory() as session:
        workflows = {
            row.id: (row.slug, row.display_name, row.aliases, row.input_schema, row.definition)
            for row in await session.scalars(select(Workflow).where(Workflow.tenant_id == tenant))
        }
        agents = {
            row.id: (row.name, row.hostname, row.avatar_url, row.status, row.last_seen_at)
            for row in await session.scalars(select(Agent).where(Agent.tenant_id == tenant))
        }
    seeded = await load(factory, tenant)
    first = seeded.jobs[0].number

    def relative(number: int | None) -> int | None:
        return None if number is None else number - first

    content: list[tuple[Any, ...]] = []
    for job in seeded.jobs:
        content.append(
            (
                relative(job.number),
                job.status,
                job.effort_level,
                workflows[job.workflow_id],
                agents[job.agent_id] if job.agent_id is not None else None,
                job.ticket_key,
                job.ticket_url,
                job.input,
                job.hint,
                job.output,
                job.error,
                job.current_step,
                job.step_count,
                job.cost_usd,
                (job.created_at, job.scheduled_for, job.started_at, job.completed_at),
                relative(job.resent_from_number),
                relative(job.resent_as_number),
                job.slack_channel,
                job.slack_thread_ts,
                [
                    (s.index, s.name, s.status, s.attempt, s.started_at, s.completed_at, s.error)
                    for s in seeded.steps[job.number]
                ],
                [(s.input, s.output) for s in seeded.steps[job.number]],
                [
                    (e.from_status, e.to_status, e.at, e.actor, _text(e.message))
                    for e in seeded.events[job.number]
                ],
                [
                    (line.sequence, line.stream, _text(line.message), line.at)
                    for line in seeded.logs[job.number]
                ],
            )
        )
    return content


async def test_the_report_counts_what_was_written(seeded: Seeded) -> None:
    report = seeded.report
    assert (report.tenant, report.jobs, report.workflows, report.agents) == (
        seeded.tenant,
        JOBS,
        6,
        8,
    )
    assert len(seeded.jobs) == JOBS
    assert report.steps == sum(len(steps) for steps in seeded.steps.values())
    assert report.events == sum(len(events) for events in seeded.events.values())
    assert report.log_lines == sum(len(lines) for lines in seeded.logs.values())
    assert report.seconds > 0


async def test_every_status_effort_and_ticket_kind_occurs(seeded: Seeded) -> None:
    jobs = seeded.jobs
    assert {job.status for job in jobs} == set(JobStatus)
    assert {job.effort_level for job in jobs} == {*EffortLevel, None}
    assert {job.ticket_key.split("-")[0] for job in jobs if job.ticket_key} >= {"SCRUM", "MVP"}
    for job in jobs:
        if job.ticket_key is not None:
            assert re.fullmatch(r"[A-Z]+-\d+", job.ticket_key)
            assert job.ticket_url == f"https://tracker.example.com/browse/{job.ticket_key}"
            assert job.input["ticket_url"] == job.ticket_url
    assert any(job.ticket_key is None for job in jobs if job.status in QUEUED)
    triggered = [job for job in jobs if "trigger_issue_key" in job.input]
    assert triggered
    for job in triggered:
        assert job.input["trigger_issue_key"] == job.ticket_key
        assert job.input["trigger_ticket_url"] == job.ticket_url
        assert {
            "trigger_project",
            "trigger_assignee",
            "trigger_status",
            "trigger_issue_type",
        } <= job.input.keys()
        assert job.hint
    assert any(job.slack_channel and job.slack_thread_ts for job in jobs)


async def test_workflows_and_agents_look_real(seeded: Seeded) -> None:
    async with seeded.factory() as session:
        workflows = list(
            await session.scalars(select(Workflow).where(Workflow.tenant_id == seeded.tenant))
        )
        agents = list(await session.scalars(select(Agent).where(Agent.tenant_id == seeded.tenant)))
    by_slug = {workflow.slug: workflow for workflow in workflows}
    assert by_slug["se-rca-fix"].display_name == "SE Rca Fix"
    assert by_slug["se-rca-fix"].aliases == ["agent_se_rca_fix"]
    assert by_slug["bug-triage"].input_schema is not None
    assert by_slug["bug-triage"].input_schema["required"] == ["ticket_url"]
    assert any(workflow.input_schema is None for workflow in workflows)
    assert 0 < sum(bool(workflow.aliases) for workflow in workflows) < len(workflows)
    assert sorted(agent.name for agent in agents) == [f"agent-0{n}" for n in range(1, 9)]
    assert {agent.status for agent in agents} == set(AgentStatus)
    assert all(agent.hostname and agent.avatar_url and agent.last_seen_at for agent in agents)
    assert {job.workflow_id for job in seeded.jobs} <= {workflow.id for workflow in workflows}


def test_display_names_upper_case_only_known_acronyms() -> None:
    assert display_name("se-rca-fix") == "SE Rca Fix"
    assert display_name("qa-regression-sweep") == "QA Regression Sweep"
    assert display_name("api-docs-sync") == "API Docs Sync"
    specs = workflow_specs(40)
    assert len({spec.slug for spec in specs}) == 40
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", spec.slug) for spec in specs)
    assert all(2 <= len(spec.steps) <= 6 for spec in specs)


async def test_job_fields_agree_with_the_status(seeded: Seeded) -> None:
    for job in seeded.jobs:
        started = job.started_at is not None
        assert (job.temporal_workflow_id is not None) == started
        assert (job.agent_id is not None) == started
        if started:
            assert job.temporal_workflow_id == pipeline_id(job.number)
        assert (job.output is not None) == (job.status is JobStatus.COMPLETED)
        assert (job.error is not None) == (job.status is JobStatus.FAILED)
        assert (job.current_step is not None) == (job.status in LIVE)
        assert (job.completed_at is not None) == (job.status not in QUEUED | LIVE)
        assert (job.cost_usd is not None) == (started and job.completed_at is not None)
        if job.status in QUEUED:
            assert not started
        if job.status in LIVE | {JobStatus.COMPLETED, JobStatus.FAILED}:
            assert started
        times = [job.created_at, job.started_at, job.completed_at]
        present = [moment for moment in times if moment is not None]
        assert present == sorted(present)
        assert max(present) <= NOW
        if job.status is JobStatus.SCHEDULED:
            assert job.scheduled_for is not None
            assert job.scheduled_for > NOW
    created = [job.created_at for job in seeded.jobs]
    assert created == sorted(created)
    assert NOW - created[0] > (NOW - created[-1]) * 30


async def test_steps_agree_with_the_job(seeded: Seeded) -> None:
    retried = 0
    for job in seeded.jobs:
        steps = seeded.steps[job.number]
        assert 2 <= len(steps) <= 6
        assert job.step_count == len(steps)
        assert [step.index for step in steps] == list(range(len(steps)))
        statuses = [step.status for step in steps]
        retried += sum(step.attempt > 1 for step in steps)
        if job.status is JobStatus.COMPLETED:
            assert set(statuses) == {StepStatus.COMPLETED}
            assert all(step.output is not None for step in steps)
        elif job.status is JobStatus.FAILED:
            failed = statuses.index(StepStatus.FAILED)
            assert set(statuses[:failed]) <= {StepStatus.COMPLETED}
            assert set(statuses[failed + 1 :]) <= {StepStatus.PENDING, StepStatus.SKIPPED}
            assert steps[failed].error
        elif job.status in (JobStatus.RUNNING, JobStatus.WAITING):
            current = job.current_step
            assert current is not None
            assert statuses[current] is StepStatus.RUNNING
            assert set(statuses[:current]) <= {StepStatus.COMPLETED}
            assert set(statuses[current + 1 :]) <= {StepStatus.PENDING}
        elif job.status is JobStatus.PAUSED:
            current = job.current_step
            assert current is not None
            assert set(statuses[:current]) <= {StepStatus.COMPLETED}
            assert set(statuses[current:]) == {StepStatus.PENDING}
        elif job.status in QUEUED:
            assert set(statuses) == {StepStatus.PENDING}
        else:
            assert set(statuses) <= {StepStatus.COMPLETED, StepStatus.SKIPPED}
        for step in steps:
            if step.started_at and step.completed_at:
                assert job.started_at is not None
                assert job.started_at <= step.started_at <= step.completed_at
    assert retried > 0


async def test_events_chain_from_creation_to_the_current_status(seeded: Seeded) -> None:
    actors: Counter[str] = Counter()
    for job in seeded.jobs:
        events = seeded.events[job.number]
        assert events[0].from_status is None
        assert events[0].at == job.created_at
        assert events[-1].to_status is job.status
        for before, after in pairwise(events):
            assert after.from_status is before.to_status
            assert can_transition(before.to_status, after.to_status)
            assert before.at <= after.at
        for event in events:
            actors[event.actor or ""] += 1
            assert event.message
            if event.to_status is JobStatus.CANCELLED:
                assert event.actor is not None
                assert event.actor.endswith("@example.com")
    assert {"system", "scheduler"} <= actors.keys()
    async with seeded.factory() as session:
        times = list(
            await session.scalars(
                select(JobEvent.at)
                .where(JobEvent.tenant_id == seeded.tenant)
                .order_by(JobEvent.sequence)
            )
        )
    assert times == sorted(times), "sequence order is time order"


async def test_resends_are_linked_both_ways(seeded: Seeded) -> None:
    by_number = {job.number: job for job in seeded.jobs}
    resends = [job for job in seeded.jobs if job.resent_from_number is not None]
    assert resends
    for job in resends:
        original = by_number[job.resent_from_number]  # type: ignore[index]
        assert original.resent_as_number == job.number
        assert original.status in (JobStatus.FAILED, JobStatus.CANCELLED)
        assert original.completed_at is not None
        assert original.completed_at < job.created_at
        assert (job.workflow_id, job.ticket_key, job.input) == (
            original.workflow_id,
            original.ticket_key,
            original.input,
        )
    originals = [job for job in seeded.jobs if job.resent_as_number is not None]
    assert len(originals) == len(resends)
    for job in originals:
        assert by_number[job.resent_as_number].resent_from_number == job.number  # type: ignore[index]


async def test_log_lines_use_every_stream(seeded: Seeded) -> None:
    streams: set[LogStream] = set()
    for job in seeded.jobs:
        lines = seeded.logs[job.number]
        if job.started_at is None:
            assert lines == []
            continue
        assert 3 <= len(lines) <= 8
        assert [line.sequence for line in lines] == list(range(1, len(lines) + 1))
        assert [line.at for line in lines] == sorted(line.at for line in lines)
        streams.update(line.stream for line in lines)
    assert streams == set(LogStream)


async def status_counts(factory: Factory, tenant: str) -> tuple[dict[str, int], dict[str, int]]:
    """The counts table and the real counts of the tenant, leaving out zeros."""
    async with factory() as session:
        stored = await session.execute(
            select(JobStatusCount.status, JobStatusCount.count).where(
                JobStatusCount.tenant_id == tenant, JobStatusCount.count > 0
            )
        )
        real = await session.execute(
            select(Job.status, func.count()).where(Job.tenant_id == tenant).group_by(Job.status)
        )
        return dict(stored.all()), dict(real.all())


async def test_status_counts_equal_the_jobs(seeded: Seeded) -> None:
    stored, real = await status_counts(seeded.factory, seeded.tenant)
    assert stored == real
    assert sum(real.values()) == JOBS


async def test_same_seed_same_data(shared_runtime: Runtime) -> None:
    factory = shared_runtime.session_factory
    tenants = [new_tenant(), new_tenant()]
    for tenant in tenants:
        await seed_database(factory, tenant=tenant, jobs=JOBS, seed=11, now=NOW)
    first, second = [await snapshot(factory, tenant) for tenant in tenants]
    assert first == second
    other = new_tenant()
    await seed_database(factory, tenant=other, jobs=JOBS, seed=12, now=NOW)
    assert await snapshot(factory, other) != first


async def test_seeding_again_appends_jobs_and_reuses_workflows_and_agents(
    shared_runtime: Runtime,
) -> None:
    factory = shared_runtime.session_factory
    tenant = new_tenant()
    await seed_database(factory, tenant=tenant, jobs=40, workflows=3, agents=2, seed=1)
    report = await seed_database(factory, tenant=tenant, jobs=30, workflows=6, agents=8, seed=2)
    assert (report.jobs, report.workflows, report.agents) == (30, 6, 8)
    seeded = await load(factory, tenant)
    async with factory() as session:
        slugs = list(
            await session.scalars(select(Workflow.slug).where(Workflow.tenant_id == tenant))
        )
        names = list(await session.scalars(select(Agent.name).where(Agent.tenant_id == tenant)))
    assert len(slugs) == len(set(slugs)) == 6
    assert len(names) == len(set(names)) == 8
    assert len(seeded.jobs) == 70
    stored, real = await status_counts(factory, tenant)
    assert stored == real
    assert sum(real.values()) == 70


async def test_numbers_continue_after_seeding(shared_runtime: Runtime, tenant: str) -> None:
    """Seeded numbers are explicit; the database's own numbering must go on after them."""
    factory = shared_runtime.session_factory
    await seed_database(factory, tenant=tenant, jobs=20, seed=3)
    async with factory() as session, session.begin():
        highest = await session.scalar(select(func.max(Job.number)))
        workflow_id = await session.scalar(select(Workflow.id).where(Workflow.tenant_id == tenant))
        assert highest is not None
        assert workflow_id is not None
        job = Job(
            tenant_id=tenant,
            workflow_id=workflow_id,
            status=JobStatus.PENDING,
            input={},
            created_at=NOW,
        )
        session.add(job)
        await session.flush()
        assert job.number == highest + 1


async def test_no_jobs_still_makes_workflows_and_agents(
    shared_runtime: Runtime, tenant: str
) -> None:
    factory = shared_runtime.session_factory
    report = await seed_database(factory, tenant=tenant, jobs=0, agents=1, workflows=1)
    assert (report.jobs, report.steps, report.events, report.log_lines) == (0, 0, 0, 0)
    async with factory() as session:
        agents = await session.scalar(select(func.count()).where(Agent.tenant_id == tenant))
    assert agents == 1


@pytest.mark.parametrize(("jobs", "agents", "workflows"), [(-1, 1, 1), (5, 0, 1), (5, 1, 0)])
async def test_arguments_are_checked(
    shared_runtime: Runtime, tenant: str, jobs: int, agents: int, workflows: int
) -> None:
    with pytest.raises(ValueError, match="seeding needs"):
        await seed_database(
            shared_runtime.session_factory,
            tenant=tenant,
            jobs=jobs,
            agents=agents,
            workflows=workflows,
        )

"""Chains of follow-ups in the database: cycles refused when workflows load, one follow-up
per rule however often the end is recorded, and a chain that stops at its depth limit with a
SYSTEM line saying so."""

from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import select

from server.db.models import Job, JobOutbox, JobStep, LogLine, Workflow
from server.domain.chains import MAX_CHAIN_DEPTH
from server.domain.enums import JobStatus, LogStream, StepStatus
from server.runtime import Runtime
from server.workflows.definition import DefinitionError, parse_workflow
from server.workflows.store import save_workflows


def workflow(slug: str, *follow_ups: str, **extra: object) -> str:
    rules = [
        {"workflow": target, "when": ["COMPLETED", "FAILED"], **extra} for target in follow_ups
    ]
    document = {"slug": slug, "steps": [{"name": "only", "run": "true"}]}
    if rules:
        document["follow_ups"] = rules
    return yaml.safe_dump(document)


async def load(runtime: Runtime, tenant: str, *texts: str) -> None:
    definitions = [parse_workflow(yaml.safe_load(text)) for text in texts]
    await save_workflows(runtime.session_factory, tenant=tenant, definitions=definitions)


async def running_job(runtime: Runtime, tenant: str, slug: str, *, depth: int) -> int:
    async with runtime.session_factory() as session, session.begin():
        workflow_id = await session.scalar(
            select(Workflow.id).where(Workflow.tenant_id == tenant, Workflow.slug == slug)
        )
        assert workflow_id is not None
        job = Job(
            tenant_id=tenant,
            workflow_id=workflow_id,
            status=JobStatus.RUNNING,
            created_at=datetime.now(UTC),
            chain_depth=depth,
            step_count=1,
            output={"built": "b-1"},
        )
        session.add(job)
        await session.flush()
        session.add(
            JobStep(
                tenant_id=tenant,
                job_number=job.number,
                index=0,
                name="only",
                status=StepStatus.COMPLETED,
                output={"built": "b-1"},
            )
        )
    return job.number


async def follow_ups(runtime: Runtime, number: int) -> list[Job]:
    async with runtime.session_factory() as session:
        statement = select(Job).where(Job.parent_number == number).order_by(Job.number)
        return list(await session.scalars(statement))


async def system_lines(runtime: Runtime, number: int) -> list[str]:
    async with runtime.session_factory() as session:
        statement = select(LogLine.message).where(
            LogLine.job_number == number, LogLine.stream == LogStream.SYSTEM
        )
        return list(await session.scalars(statement.order_by(LogLine.sequence)))


async def finish(runtime: Runtime, tenant: str, number: int) -> None:
    await runtime.execution.finish(
        tenant=tenant, number=number, status=JobStatus.COMPLETED, error=None, agent_name=None
    )


@pytest.mark.parametrize(
    "files",
    [
        [workflow("a", "a")],
        [workflow("a", "b"), workflow("b", "c"), workflow("c", "a")],
    ],
    ids=["itself", "through-two-others"],
)
async def test_a_chain_that_comes_back_is_refused_in_one_load(
    runtime: Runtime, tenant: str, files: list[str]
) -> None:
    with pytest.raises(DefinitionError, match=r"a chain may not come back: a -> .*a$"):
        await load(runtime, tenant, *files)
    async with runtime.session_factory() as session:
        stored = await session.scalars(select(Workflow.slug).where(Workflow.tenant_id == tenant))
        assert list(stored) == []


async def test_a_chain_closed_by_a_later_load_is_refused_and_the_earlier_one_kept(
    runtime: Runtime, tenant: str
) -> None:
    await load(runtime, tenant, workflow("build", "deploy"), workflow("deploy"))
    with pytest.raises(DefinitionError, match="build -> deploy -> build"):
        await load(runtime, tenant, workflow("deploy", "build"))
    async with runtime.session_factory() as session:
        deploy = await session.scalar(
            select(Workflow).where(Workflow.tenant_id == tenant, Workflow.slug == "deploy")
        )
        assert deploy is not None
        assert "follow_ups" not in (deploy.definition or {})
    # another tenant's workflows of the same names do not count
    await load(runtime, f"{tenant}-b", workflow("deploy", "build"))


async def test_the_end_recorded_twice_makes_one_follow_up_per_rule(
    runtime: Runtime, tenant: str
) -> None:
    # Given a build job whose workflow chains a deploy from its output, and a missing one
    await load(
        runtime,
        tenant,
        workflow("build", "deploy", "no-such-workflow", input={"from_output": True, "env": "prod"}),
        workflow("deploy"),
    )
    number = await running_job(runtime, tenant, "build", depth=0)

    # When its end is recorded twice (a Teardown retried after its first try committed)
    await finish(runtime, tenant, number)
    await finish(runtime, tenant, number)

    # Then one deploy follows it, with the output under the rule's input, owed to the outbox
    made = await follow_ups(runtime, number)
    assert [(job.follow_up_rule, job.chain_depth, job.input) for job in made] == [
        (0, 1, {"built": "b-1", "env": "prod"})
    ]
    async with runtime.session_factory() as session:
        owed = await session.scalars(
            select(JobOutbox.job_number).where(JobOutbox.tenant_id == tenant)
        )
        assert list(owed) == [made[0].number]
    # and the job's log says what started and what could not
    assert await system_lines(runtime, number) == [
        f"follow-up 'deploy' started as job #{made[0].number}",
        "follow-up 'no-such-workflow' not started: workflow 'no-such-workflow' does not exist",
    ]


async def test_a_chain_stops_at_its_depth_limit_with_a_system_line(
    runtime: Runtime, tenant: str
) -> None:
    await load(runtime, tenant, workflow("step", "next"), workflow("next"))
    last_allowed = await running_job(runtime, tenant, "step", depth=MAX_CHAIN_DEPTH - 1)
    too_deep = await running_job(runtime, tenant, "step", depth=MAX_CHAIN_DEPTH)

    await finish(runtime, tenant, last_allowed)
    await finish(runtime, tenant, too_deep)

    assert [job.chain_depth for job in await follow_ups(runtime, last_allowed)] == [MAX_CHAIN_DEPTH]
    assert await follow_ups(runtime, too_deep) == []
    assert await system_lines(runtime, too_deep) == [
        f"chain stopped: job #{too_deep} is {MAX_CHAIN_DEPTH} follow-ups deep, the most a chain "
        f"may be is {MAX_CHAIN_DEPTH}; not started: next"
    ]

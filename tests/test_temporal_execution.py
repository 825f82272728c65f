"""The execution service the activities write through, without Temporal."""

from sqlalchemy import select

from server.db.models import Agent, Job, JobStep, LogLine
from server.domain.enums import AgentStatus, JobStatus, LogStream
from server.runtime import Runtime
from server.services.execution import AttemptEnd, ExecutionService
from tests.support.factories import build_world


def service(runtime: Runtime) -> ExecutionService:
    return runtime.execution


async def test_a_job_paused_after_its_last_step_still_completes(
    runtime: Runtime, tenant: str
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": "PAUSED"}])
    number = world.jobs[0].number
    execution = service(runtime)

    await execution.collect_outputs(
        tenant=tenant, number=number, status=JobStatus.COMPLETED, agent_name="agent-01"
    )
    await execution.finish(
        tenant=tenant, number=number, status=JobStatus.COMPLETED, error=None, agent_name="agent-01"
    )

    async with runtime.session_factory() as session:
        job = await session.get_one(Job, number)
    assert job.status is JobStatus.COMPLETED
    assert job.output == "Workflow se-rca-fix completed on agent-01"


async def test_an_agent_registers_on_its_first_heartbeat_and_comes_back_online(
    runtime: Runtime, tenant: str
) -> None:
    execution = service(runtime)

    await execution.agent_seen(tenant=tenant, name="new", hostname="box", status=None)
    await execution.agent_seen(tenant=tenant, name="new", hostname=None, status=AgentStatus.OFFLINE)
    await execution.agent_seen(tenant=tenant, name="new", hostname=None)

    async with runtime.session_factory() as session:
        agent = await session.scalar(select(Agent).where(Agent.tenant_id == tenant))
    assert agent is not None
    assert (agent.name, agent.hostname, agent.status) == ("new", "box", AgentStatus.ONLINE)
    assert agent.last_seen_at is not None


async def test_log_lines_are_numbered_after_the_last_one(runtime: Runtime, tenant: str) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": "RUNNING"}])
    number = world.jobs[0].number
    execution = service(runtime)

    await execution.append_logs(
        tenant=tenant, number=number, lines=[(LogStream.STDOUT, "a"), (LogStream.STDERR, "b")]
    )
    await execution.append_logs(tenant=tenant, number=number, lines=[(LogStream.SYSTEM, "c")])

    async with runtime.session_factory() as session:
        statement = select(LogLine).where(LogLine.job_number == number).order_by(LogLine.sequence)
        lines = [(line.sequence, line.message) for line in await session.scalars(statement)]
    assert lines == [(1, "a"), (2, "b"), (3, "c")]


async def test_steps_that_report_a_cost_add_it_to_the_job(runtime: Runtime, tenant: str) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": "RUNNING"}])
    number = world.jobs[0].number
    async with runtime.session_factory() as session, session.begin():
        session.add_all(
            JobStep(tenant_id=tenant, job_number=number, index=index, name=f"s{index}")
            for index in range(3)
        )
    execution = service(runtime)

    for index, output in enumerate([{"cost_usd": 0.25}, {"cost_usd": 0.5, "x": 1}, "text"]):
        await execution.step_finished(
            tenant=tenant, number=number, index=index, attempt=1, end=AttemptEnd(output=output)
        )

    async with runtime.session_factory() as session:
        job = await session.get_one(Job, number)
    assert job.cost_usd == 0.75

"""Chained follow-ups: when a job ends in a status one of its workflow's `follow_ups` lists,
that rule's job is made in the same transaction as the end, and started by the outbox.

So a follow-up exists exactly when the end does: an end recorded twice moves nothing the
second time (the state machine refuses a second end), a worker that dies after the commit
leaves the start in the outbox for any other process to deliver, and the database refuses a
second job for the same parent and rule whatever races.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agent, Job, Workflow
from server.domain.actors import SYSTEM
from server.domain.chains import MAX_CHAIN_DEPTH, FollowUpRule, follow_up_rules
from server.domain.dispatch import DispatchRequest
from server.domain.enums import DispatchSource, LogStream
from server.domain.errors import DomainError

from . import state_machine
from .job_definition import add_steps, freeze, resolve_effort
from .logs import add_log_lines
from .new_jobs import dispatch_agent, new_job, validate_input, workflow_named
from .outbox import outbox_entry
from .unit_of_work import UnitOfWork

T = TypeVar("T")


def with_follow_ups(
    action: Callable[[UnitOfWork], Awaitable[T]],
) -> Callable[[UnitOfWork], Awaitable[T]]:
    """`action`, then the follow-ups of every job it ended, in its unit of work."""

    async def run(work: UnitOfWork) -> T:
        result = await action(work)
        while work.ended:
            await _follow_up(work, work.ended.pop(0))
        return result

    return run


async def _follow_up(work: UnitOfWork, parent: Job) -> None:
    workflow = await work.session.get_one(Workflow, parent.workflow_id)
    rules = [
        (index, rule)
        for index, rule in enumerate(follow_up_rules(workflow.definition))
        if parent.status in rule.when
    ]
    if not rules:
        return
    if parent.chain_depth + 1 > MAX_CHAIN_DEPTH:
        names = ", ".join(rule.workflow for _index, rule in rules)
        await _say(
            work,
            parent,
            f"chain stopped: job #{parent.number} is {parent.chain_depth} follow-ups deep, "
            f"the most a chain may be is {MAX_CHAIN_DEPTH}; not started: {names}",
        )
        return
    for index, rule in rules:
        try:
            child = await _chained_job(work, parent, rule, index)
        except DomainError as refused:
            await _say(work, parent, f"follow-up {rule.workflow!r} not started: {refused.message}")
            continue
        await _say(work, parent, f"follow-up {rule.workflow!r} started as job #{child.number}")


async def _chained_job(work: UnitOfWork, parent: Job, rule: FollowUpRule, index: int) -> Job:
    session = work.session
    request = DispatchRequest(
        workflow=rule.workflow,
        agent=rule.agent_for(await _agent_name(session, parent)),
        effort_level=parent.effort_level,
        input=rule.input_for(parent.output),
        source=DispatchSource.FOLLOW_UP,
    )
    workflow = await workflow_named(session, parent.tenant_id, request.workflow)
    validate_input(request.input, workflow.input_schema)
    agent = await dispatch_agent(session, parent.tenant_id, request.agent)
    definition = freeze(workflow)
    level, effort = resolve_effort(definition, request.effort_level, workflow=workflow.slug)
    job = new_job(parent.tenant_id, request, workflow, agent, definition)
    job.effort_level, job.effort = level, effort
    job.parent_number = parent.number
    job.follow_up_rule = index
    job.chain_depth = parent.chain_depth + 1
    session.add(job)
    await state_machine.record_created(
        work, job, actor=SYSTEM, message=f"follow-up of job #{parent.number}"
    )
    add_steps(session, job, definition)
    session.add(outbox_entry(job))
    return job


async def _agent_name(session: AsyncSession, job: Job) -> str | None:
    if job.agent_id is None:
        return None
    return (await session.get_one(Agent, job.agent_id)).name


async def _say(work: UnitOfWork, job: Job, line: str) -> None:
    await add_log_lines(work, job, [(LogStream.SYSTEM, line)])

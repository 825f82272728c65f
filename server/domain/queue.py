"""The queue's rules: which agents may run a waiting job, which one gets it, and how a waiting
job's place reads. Pure functions over snapshots; the SQL is in `server.reads.queue`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Agents heartbeat every few seconds; one not heard from for this long takes no new jobs.
LIVE_WITHIN = timedelta(seconds=20)


@dataclass(frozen=True)
class AgentSlots:
    id: int
    name: str
    slots: int
    running: int
    live: bool
    workflow_ids: frozenset[int] | None
    """The workflows it runs; None means any."""

    @property
    def free(self) -> int:
        return self.slots - self.running if self.live else 0

    def runs(self, workflow_id: int) -> bool:
        return self.workflow_ids is None or workflow_id in self.workflow_ids


@dataclass(frozen=True)
class WaitingJob:
    number: int
    workflow_id: int
    workflow: str
    agent_id: int | None
    pinned: bool
    queued_at: datetime


@dataclass(frozen=True)
class Standing:
    position: int
    reason: str
    since: datetime


def able_agents(job: WaitingJob, agents: Sequence[AgentSlots]) -> list[AgentSlots]:
    """The agents that may run the job, live or not: the one it names, or those running its
    workflow."""
    if job.pinned:
        return [agent for agent in agents if agent.id == job.agent_id]
    return [agent for agent in agents if agent.runs(job.workflow_id)]


def pick_agent(job: WaitingJob, agents: Sequence[AgentSlots], free: dict[int, int]) -> int | None:
    """The able agent with the most free slots (by name among equals), or None."""
    able = [agent for agent in able_agents(job, agents) if free.get(agent.id, 0) > 0]
    if not able:
        return None
    return min(able, key=lambda agent: (-free[agent.id], agent.name)).id


def standings(
    queue: Sequence[WaitingJob], agents: Sequence[AgentSlots], numbers: Sequence[int]
) -> dict[int, Standing]:
    """Where each of `numbers` stands in its tenant's queue (oldest first): 1 + the waiting
    jobs ahead of it that compete for one of its agents, and why it waits."""
    able = {job.number: {agent.id for agent in able_agents(job, agents)} for job in queue}
    wanted = set(numbers)
    found: dict[int, Standing] = {}
    for place, job in enumerate(queue):
        if job.number not in wanted:
            continue
        mine = able[job.number]
        ahead = sum(
            1
            for other in queue[:place]
            if (able[other.number] & mine)
            or (not mine and not able[other.number] and other.workflow_id == job.workflow_id)
        )
        found[job.number] = Standing(ahead + 1, _reason(job, agents, ahead), job.queued_at)
    return found


def _reason(job: WaitingJob, agents: Sequence[AgentSlots], ahead: int) -> str:
    able = able_agents(job, agents)
    queued = f", {ahead} ahead" if ahead else ""
    if job.pinned and able:
        agent = able[0]
        if not agent.live:
            return f"waiting for agent {agent.name} (offline)"
        return f"waiting for agent {agent.name}: all {agent.slots} slots busy{queued}"
    if not any(agent.live for agent in able):
        return f"waiting for an agent that runs {job.workflow} (none online)"
    return f"waiting for a free agent: {ahead} ahead"

"""The data that crosses Temporal: workflow and activity inputs and results.

Plain dataclasses with no imports from the rest of the server, so the workflow sandbox can
pass them through.
"""

from dataclasses import dataclass, field
from typing import Any

JOB_WORKFLOW = "JobWorkflow"
# What a schedule starts: it makes the run's job, then runs that job's workflow as its child.
SCHEDULED_JOB_WORKFLOW = "ScheduledJobWorkflow"
# The activity that runs one step on an agent; the timeline lists one entry per attempt.
STEP_ACTIVITY = "runAndMonitor"
# The failure type a job workflow ends with when its job failed.
JOB_FAILED = "JobFailed"
# The failure type of a step whose agent stopped (graceful shutdown) before it finished: the
# workflow runs the step again, without counting it as a failed attempt.
HANDED_BACK = "StepHandedBack"
# The signal that wakes a waiting job: it got a slot of an agent.
ASSIGNED_SIGNAL = "assigned"


@dataclass(frozen=True)
class JobRef:
    tenant: str
    job_number: int


@dataclass(frozen=True)
class StepPlan:
    index: int
    name: str
    run: str | None
    retries: int
    timeout_seconds: float | None
    backoff_seconds: float
    approval: bool
    skip: bool = False


@dataclass(frozen=True)
class JobContext:
    """What the dispatch said about the job, handed to each step's process."""

    source: str
    effort_level: str | None = None
    effort: dict[str, str] = field(default_factory=dict)
    hint: str | None = None
    ticket_url: str | None = None
    ticket_key: str | None = None


@dataclass(frozen=True)
class JobPlan:
    """What Init read: `finished` when the job already ended (cancelled before it began)."""

    tenant: str
    job_number: int
    workflow_slug: str
    input: dict[str, Any] = field(default_factory=dict)
    steps: list[StepPlan] = field(default_factory=list)
    finished: bool = False
    context: JobContext = field(default_factory=lambda: JobContext("RUN_WORKFLOW"))
    queue_timeout_seconds: float | None = None
    heartbeat_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Assignment:
    """The agent a job got a slot of, and the task queue it listens on."""

    agent_name: str
    task_queue: str


@dataclass(frozen=True)
class Claim:
    """Init's claim: the job's agent, or None while it waits (with why, once it gave up)."""

    assignment: Assignment | None = None
    reason: str = ""


@dataclass(frozen=True)
class AgentClaim:
    tenant: str
    job_number: int
    agent_name: str


@dataclass(frozen=True)
class Handover:
    """The definition handed to the agent, written into the job's workspace."""

    tenant: str
    job_number: int
    workspace: str


@dataclass(frozen=True)
class StepRun:
    tenant: str
    job_number: int
    step_index: int
    step_name: str
    command: str | None
    workspace: str
    input: dict[str, Any] = field(default_factory=dict)
    context: JobContext = field(default_factory=lambda: JobContext("RUN_WORKFLOW"))
    attempt: int = 1


@dataclass(frozen=True)
class AgentLost:
    """An agent stopped answering: during attempt `attempt` of step `step_index`, or (both
    None) before the job's first step on it."""

    tenant: str
    job_number: int
    agent_name: str
    reason: str
    step_index: int | None = None
    attempt: int | None = None


@dataclass(frozen=True)
class Decision:
    """A person's action on the job, as a signal: who, and why."""

    actor: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class GateUpdate:
    """An approval step opened (`approved` None) or decided."""

    tenant: str
    job_number: int
    step_index: int
    approved: bool | None = None
    actor: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How the job ended, for Teardown. `status` is a JobStatus value."""

    tenant: str
    job_number: int
    status: str
    agent_name: str | None = None
    workspace: str | None = None
    error: str | None = None


def agent_task_queue(base: str, *, tenant: str, agent: str) -> str:
    """Each agent listens on its own queue, so a step runs on the agent the job was given."""
    return f"{base}.agent.{tenant}.{agent}"


@dataclass(frozen=True)
class ScheduledRun:
    """The argument a schedule starts each run with; `run_id` is filled in by the run."""

    tenant: str
    schedule_key: str
    run_id: str = ""


@dataclass(frozen=True)
class ScheduledJob:
    """The job a run made, and the workflow id its child workflow takes."""

    tenant: str
    job_number: int
    workflow_id: str

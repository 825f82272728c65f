"""What happened to one job and when: its status changes, its step runs, its timestamps.

Times are POSIX seconds. A job waits in the queue, then runs its steps one after the
other; when that would end after `horizon`, every span is shrunk by the same factor, so
nothing lies in the future except the `scheduled_for` of a job that is still SCHEDULED.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from server.domain.enums import JobStatus, StepStatus

from .draws import Random

_STOPPED_MIDWAY = frozenset(
    {JobStatus.RUNNING, JobStatus.WAITING, JobStatus.PAUSED, JobStatus.FAILED, JobStatus.CANCELLED}
)


@dataclass(frozen=True, slots=True)
class Cast:
    """Who appears in a job's story, and the words of its events."""

    creator: str
    created_message: str
    agent: str
    person: str
    failure: str
    """What goes wrong if the job fails; `{step}` becomes the failing step's name."""
    wait_reason: str


@dataclass(slots=True)
class StepRun:
    status: StepStatus = StepStatus.PENDING
    attempt: int = 1
    started: float | None = None
    completed: float | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    source: JobStatus | None
    target: JobStatus
    at: float
    actor: str
    message: str


@dataclass(slots=True)
class Lifecycle:
    transitions: list[Transition]
    steps: list[StepRun]
    scheduled_for: float | None = None
    started: float | None = None
    completed: float | None = None
    current_step: int | None = None
    error: str | None = None


def plan(
    random: Random,
    *,
    status: JobStatus,
    created: float,
    steps: Sequence[str],
    horizon: float,
    scheduled_first: bool,
    cast: Cast,
) -> Lifecycle:
    """Lay out the life of a job that is in `status` at `horizon`.

    A job that is still SCHEDULED (or `scheduled_first`) starts out SCHEDULED; the former
    gets a `scheduled_for` up to a week after `horizon`, the latter one in its past.
    """
    scheduled_first = scheduled_first or status is JobStatus.SCHEDULED
    first = JobStatus.SCHEDULED if scheduled_first else JobStatus.PENDING
    life = Lifecycle(
        transitions=[Transition(None, first, created, cast.creator, cast.created_message)],
        steps=[StepRun() for _ in steps],
    )
    if status is JobStatus.SCHEDULED:
        life.scheduled_for = horizon + 3600 + random() * 7 * 86400
        return life

    # Steps 0..reached-1 ran or run; the last of them is where the job ended or is now.
    reached = int(random() * len(steps)) + 1 if status in _STOPPED_MIDWAY else len(steps)
    starts = status is not JobStatus.PENDING and not (
        status is JobStatus.CANCELLED and random() < 0.3
    )
    delay = 7200 + random() * 43200 if scheduled_first else 0.0
    queued = 2 + random() * random() * 900
    durations = [20 + random() * random() * 1800 for _ in range(reached if starts else 0)]
    scale = min(1.0, 0.9 * (horizon - created) / (delay + queued + sum(durations)))

    now = created
    if scheduled_first:
        now += delay * scale
        life.scheduled_for = now
        life.transitions.append(
            Transition(
                JobStatus.SCHEDULED, JobStatus.PENDING, now, "scheduler", "Scheduled time reached"
            )
        )
    now += queued * scale
    if status is JobStatus.PENDING:
        return life
    if not starts:
        for step in life.steps:
            step.status = StepStatus.SKIPPED
        _end(
            life,
            JobStatus.PENDING,
            JobStatus.CANCELLED,
            now,
            cast.person,
            f"Cancelled by {cast.person}",
        )
        return life

    life.started = now
    life.transitions.append(
        Transition(
            JobStatus.PENDING, JobStatus.RUNNING, now, "scheduler", f"Picked up by {cast.agent}"
        )
    )
    scaled = [duration * scale for duration in durations]
    _run_steps(random, life, status, now, scaled, steps, cast)
    return life


def _run_steps(
    random: Random,
    life: Lifecycle,
    status: JobStatus,
    start: float,
    durations: list[float],
    names: Sequence[str],
    cast: Cast,
) -> None:
    """Steps one after the other from the start; the last duration is spent on the step
    where the job stopped (or, for a paused job, before pausing)."""
    now = start
    stop = len(durations) - 1
    completed = len(durations) if status is JobStatus.COMPLETED else stop
    detour = int(random() * completed) if completed and random() < 0.12 else -1
    for index in range(completed):
        step, duration = life.steps[index], durations[index]
        if index == detour:
            _wait_and_resume(life, now, duration, cast)
        step.status = StepStatus.COMPLETED
        step.attempt = 2 + int(random() * 2) if random() < 0.06 else 1
        step.started, step.completed = now, now + duration
        now += duration

    step, duration = life.steps[stop], durations[stop]
    match status:
        case JobStatus.COMPLETED:
            took = int(now - start)
            message = f"Completed in {took // 60}m {took % 60}s"
            _end(life, JobStatus.RUNNING, status, now, "system", message)
        case JobStatus.PAUSED:
            life.current_step = stop
            message = f"Paused by {cast.person}"
            life.transitions.append(
                Transition(JobStatus.RUNNING, status, now + duration, cast.person, message)
            )
        case JobStatus.RUNNING | JobStatus.WAITING:
            life.current_step = stop
            step.status, step.started = StepStatus.RUNNING, now
            if status is JobStatus.WAITING:
                life.transitions.append(
                    Transition(
                        JobStatus.RUNNING, status, now + duration, "system", cast.wait_reason
                    )
                )
        case JobStatus.FAILED:
            step.status, step.attempt = StepStatus.FAILED, 1 + int(random() * 3)
            step.started, step.completed = now, now + duration
            life.error = cast.failure.format(step=names[stop])
            _end(life, JobStatus.RUNNING, status, now + duration, "system", life.error)
            rest = StepStatus.SKIPPED if random() < 0.5 else StepStatus.PENDING
            for later in life.steps[stop + 1 :]:
                later.status = rest
        case _:
            step.status = StepStatus.SKIPPED
            step.started, step.completed = now, now + duration
            message = f"Cancelled by {cast.person}"
            _end(life, JobStatus.RUNNING, status, now + duration, cast.person, message)
            for later in life.steps[stop + 1 :]:
                later.status = StepStatus.SKIPPED


def _wait_and_resume(life: Lifecycle, start: float, duration: float, cast: Cast) -> None:
    waits, resumes = start + duration * 0.3, start + duration * 0.7
    life.transitions.append(
        Transition(JobStatus.RUNNING, JobStatus.WAITING, waits, "system", cast.wait_reason)
    )
    life.transitions.append(
        Transition(JobStatus.WAITING, JobStatus.RUNNING, resumes, cast.person, "Resumed")
    )


def _end(
    life: Lifecycle, source: JobStatus, target: JobStatus, at: float, actor: str, message: str
) -> None:
    life.completed = at
    life.transitions.append(Transition(source, target, at, actor, message))

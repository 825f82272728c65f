"""Plain rows of demo data drawn from one `random.Random`: one seed, one data set.

Everything is placed relative to `horizon`, the moment the data ends at. Jobs are created
over the sixty days before it and are long finished, except the most recent ones, packed
into its last six hours, among which are those still queued, running, waiting or paused.
"""

import random
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.db.models import pipeline_id
from server.domain.enums import AgentStatus, DispatchSource, EffortLevel, JobStatus

from . import catalog, stories, trail
from .catalog import AgentSpec, WorkflowSpec
from .draws import Weighted, one_of
from .ordering import EventOrderer
from .requests import Request, Requests
from .trail import SQL_NULL, Row, at, maybe_at

DAY = 86400.0
HISTORY_DAYS = 60
LIVE_HOURS = 6

_QUEUED = frozenset({JobStatus.SCHEDULED, JobStatus.PENDING})
_LIVE = frozenset({JobStatus.RUNNING, JobStatus.WAITING, JobStatus.PAUSED})
_RESENDABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})
_COST_FACTOR = {EffortLevel.MAX: 2.0, EffortLevel.HIGH: 1.3, EffortLevel.MEDIUM: 1.0, None: 1.0}

_HISTORY_MIX = Weighted(
    [(JobStatus.COMPLETED, 0.74), (JobStatus.FAILED, 0.14), (JobStatus.CANCELLED, 0.12)]
)
_LIVE_MIX = Weighted(
    [
        (JobStatus.SCHEDULED, 0.12),
        (JobStatus.PENDING, 0.15),
        (JobStatus.RUNNING, 0.20),
        (JobStatus.WAITING, 0.08),
        (JobStatus.PAUSED, 0.05),
        (JobStatus.COMPLETED, 0.28),
        (JobStatus.FAILED, 0.07),
        (JobStatus.CANCELLED, 0.05),
    ]
)


@dataclass(frozen=True, slots=True)
class Resend:
    number: int
    request: Request


@dataclass
class Batch:
    jobs: list[Row] = field(default_factory=list)
    steps: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    log_lines: list[Row] = field(default_factory=list)


class DemoData:
    """The rows for one tenant: first the workflows and agents, whose ids then place the jobs.

    Draws happen in a fixed order (workflows, agents, the jobs' times and statuses, then
    job after job), which is what makes a seed reproduce its data.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        tenant: str,
        jobs: int,
        agents: int,
        workflows: int,
        horizon: datetime,
    ) -> None:
        self._random = rng.random
        self._tenant = tenant
        self._horizon = horizon.timestamp()
        self.workflows = catalog.workflow_specs(workflows)
        self.agents = catalog.agent_specs(agents)
        self.workflow_rows = [
            self._workflow_row(position, spec) for position, spec in enumerate(self.workflows)
        ]
        self.agent_rows = [self._agent_row(spec) for spec in self.agents]
        self._requests = Requests(self._random, self.workflows)
        awake = [
            position
            for position, spec in enumerate(self.agents)
            if spec.status is not AgentStatus.OFFLINE
        ]
        self._awake_agents = awake or list(range(agents))

        live = min(jobs, max(len(JobStatus), jobs // 50))
        self._created, self._statuses = self._timeline(jobs - live, live)
        # Every status at least once, among the recent jobs where each is plausible.
        self._forced: frozenset[int] = frozenset()
        if jobs >= len(JobStatus):
            forced = rng.sample(range(jobs - live, jobs), len(JobStatus))
            for position, status in zip(forced, JobStatus, strict=True):
                self._statuses[position] = status
            self._forced = frozenset(forced)
        self._resends: dict[int, Resend] = {}
        self._first_number = 0
        self._workflow_ids: Sequence[int] = ()
        self._agent_ids: Sequence[int] = ()

    def batches(
        self,
        *,
        first_number: int,
        workflow_ids: Sequence[int],
        agent_ids: Sequence[int],
        size: int,
    ) -> Iterator[Batch]:
        """The jobs, numbered from `first_number`, with their steps, events and log lines.

        `workflow_ids` and `agent_ids` are the database ids of `workflow_rows` and
        `agent_rows`, in their order. Events come out in time order across all batches.
        The draws go on from where the constructor left them, so this runs once.
        """
        self._first_number = first_number
        self._workflow_ids, self._agent_ids = workflow_ids, agent_ids
        orderer = EventOrderer()
        total = len(self._created)
        for start in range(0, total, size):
            batch = Batch()
            end = min(start + size, total)
            for position in range(start, end):
                self._job(position, batch)
            before = at(self._created[end]) if end < total else None
            batch.events = orderer.release(batch.events, before=before)
            yield batch

    def _timeline(self, history: int, live: int) -> tuple[list[float], list[JobStatus]]:
        """Creation times, in increasing order, and the status each job has at the horizon."""
        random_ = self._random
        live_start = self._horizon - LIVE_HOURS * 3600
        live_span = LIVE_HOURS * 3600 - 300
        history_start = self._horizon - HISTORY_DAYS * DAY
        history_span = live_start - history_start
        created = sorted(history_start + random_() * history_span for _ in range(history))
        created += sorted(live_start + random_() * live_span for _ in range(live))
        statuses = [_HISTORY_MIX.pick(random_()) for _ in range(history)]
        statuses += [_LIVE_MIX.pick(random_()) for _ in range(live)]
        return created, statuses

    def _workflow_row(self, position: int, spec: WorkflowSpec) -> Row:
        return {
            "tenant_id": self._tenant,
            "slug": spec.slug,
            "display_name": spec.display_name,
            "aliases": [spec.legacy_alias] if spec.has_legacy_alias else [],
            "input_schema": catalog.TICKET_INPUT_SCHEMA if spec.needs_ticket else SQL_NULL,
            "definition": {"steps": [{"name": name} for name in spec.steps]},
            "created_at": at(self._horizon - (HISTORY_DAYS + 30 - position % 30) * DAY),
        }

    def _agent_row(self, spec: AgentSpec) -> Row:
        if spec.status is AgentStatus.OFFLINE:
            seen = self._horizon - 3600 - self._random() * 10 * DAY
        else:
            seen = self._horizon - self._random() * 60
        return {
            "tenant_id": self._tenant,
            "name": spec.name,
            "hostname": spec.hostname,
            "avatar_url": spec.avatar_url,
            "status": spec.status,
            "last_seen_at": at(seen),
        }

    def _job(self, position: int, batch: Batch) -> None:
        random_ = self._random
        number = self._first_number + position
        status = self._statuses[position]
        person = one_of(random_, catalog.PEOPLE)
        resend = self._resends.pop(position, None)
        if resend is not None:
            request = resend.request
            creator, created_message = person, f"Resent from job #{resend.number} by {person}"
        else:
            if status in _QUEUED:
                ticketless = position in self._forced or random_() < 0.6
            else:
                ticketless = random_() < 0.08
            request = self._requests.draw(person=person, ticketless=ticketless)
            creator, created_message = person, f"Created by {person}"
            if request.automated and request.ticket is not None:
                creator = "system"
                created_message = f"Created by tracker automation for {request.ticket.key}"
        agents = self._awake_agents if status in _LIVE else range(len(self.agents))
        agent = one_of(random_, agents)
        cast = stories.Cast(
            creator=creator,
            created_message=created_message,
            agent=self.agents[agent].name,
            person=person,
            failure=one_of(random_, catalog.FAILURES),
            wait_reason=one_of(random_, catalog.WAIT_REASONS),
        )
        spec = self.workflows[request.workflow]
        life = stories.plan(
            random_,
            status=status,
            created=self._created[position],
            steps=spec.steps,
            horizon=self._horizon,
            scheduled_first=random_() < 0.08,
            cast=cast,
        )
        row = self._job_row(number, status, position, request, agent, life)
        if resend is not None:
            row["resent_from_number"] = resend.number
            row["source"] = DispatchSource.RESEND
        if status in _RESENDABLE and random_() < 0.2:
            row["resent_as_number"] = self._reserve_resend(position, number, request, life)
        batch.jobs.append(row)
        batch.steps += trail.step_rows(self._tenant, number, spec, request, life)
        batch.events += trail.event_rows(self._tenant, number, life)
        batch.log_lines += trail.log_rows(random_, self._tenant, number, status, spec, cast, life)

    def _reserve_resend(
        self, position: int, number: int, request: Request, life: stories.Lifecycle
    ) -> int | None:
        """Make a later job, created some time after this one ended, its resend."""
        ended = life.completed or self._created[position]
        earliest = bisect_left(self._created, ended + 120 + self._random() * 3600)
        earliest += int(self._random() * 4)
        for later in range(earliest, min(earliest + 10, len(self._created))):
            if later not in self._resends and later not in self._forced:
                self._resends[later] = Resend(number, request)
                return self._first_number + later
        return None

    def _job_row(
        self,
        number: int,
        status: JobStatus,
        position: int,
        request: Request,
        agent: int,
        life: stories.Lifecycle,
    ) -> Row:
        random_ = self._random
        spec = self.workflows[request.workflow]
        started = life.started is not None
        ticket = request.ticket
        output: Any = SQL_NULL
        if status is JobStatus.COMPLETED:
            pull_request = int(random_() * 9000) + 100
            output = {
                "summary": f"{spec.display_name} done for {ticket.key if ticket else 'request'}",
                "tokens_used": 2000 + int(random_() * random_() * 400_000),
                "pull_request": (
                    f"https://git.example.com/acme/app/pull/{pull_request}"
                    if "open-pr" in spec.steps
                    else None
                ),
            }
        cost = None
        if started and life.completed is not None:
            cost = 0.05 + random_() * random_() * 1.5 * len(spec.steps)
            cost = round(cost * _COST_FACTOR[request.effort], 4)
        slack = random_() < 0.2
        created = self._created[position]
        return {
            "number": number,
            "tenant_id": self._tenant,
            "workflow_id": self._workflow_ids[request.workflow],
            "agent_id": self._agent_ids[agent] if started else None,
            "status": status,
            "effort_level": request.effort,
            "source": _source(request),
            "input": request.input,
            "hint": request.hint,
            "ticket_key": ticket.key if ticket else None,
            "ticket_url": ticket.url if ticket else None,
            "output": output,
            "error": life.error,
            "current_step": life.current_step,
            "step_count": len(spec.steps),
            "cost_usd": cost,
            "created_at": at(created),
            "scheduled_for": maybe_at(life.scheduled_for),
            "started_at": maybe_at(life.started),
            "completed_at": maybe_at(life.completed),
            "temporal_workflow_id": pipeline_id(number) if started else None,
            "resent_from_number": None,
            "resent_as_number": None,
            "idempotency_key": None,
            "slack_channel": one_of(random_, catalog.SLACK_CHANNELS) if slack else None,
            "slack_thread_ts": f"{int(created)}.{int(random_() * 1e6):06d}" if slack else None,
        }


def _source(request: Request) -> DispatchSource:
    """How the UI would have started it: the tracker's automation, the queue (no ticket yet)
    or Run Workflow."""
    if request.automated:
        return DispatchSource.AUTOMATION
    return DispatchSource.QUEUE if request.ticket is None else DispatchSource.RUN_WORKFLOW

"""The node types of the job graph: Job, its steps and their attempts, Workflow, Agent,
Automation and Schedule, and the job connection.

They refer to each other at run time (a job's workflow, a workflow's jobs), so they share a
module. Plain fields are copied from the row; relations load through the request's loaders.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from resolvers.context import Info
from resolvers.timeline_lookup import TimelineLookup
from server.db import models
from server.domain import rules
from server.domain.downloads import job_logs_path
from server.domain.enums import JobOrder
from server.domain.errors import InvalidArgument, NotFound
from server.domain.filters import JobFilter as DomainJobFilter
from server.reads.automations import AutomationRow
from server.reads.paging import page_request
from server.temporal.web_ui import workflow_url

from .artifacts import Artifact, artifacts_of
from .definition import JobDefinition
from .enums import (
    AgentStatus,
    DispatchSource,
    EffortLevel,
    JobStatus,
    LogStream,
    ScheduleOverlap,
    StepStatus,
)
from .events import JobEvent, LogConnection
from .filters import JobFilter, domain_filter
from .logs import log_connection
from .node_rows import nodes_by_id, rows_by_node_id
from .notifications import NotificationDelivery
from .queue import JobQueuePosition
from .steps import JobMetrics, JobTrigger
from .timeline import Timeline

RowT = TypeVar("RowT")

RECENT_JOBS_MAX = 100


def _seconds(started_at: datetime | None, completed_at: datetime | None) -> float | None:
    if started_at is None or completed_at is None:
        return None
    return (completed_at - started_at).total_seconds()


@strawberry.type
class StepAttempt:
    attempt: int
    status: StepStatus
    started_at: datetime | None
    completed_at: datetime | None
    exit_code: int | None
    error: str | None
    agent_id: strawberry.Private[int | None]

    @strawberry.field
    def duration_seconds(self) -> float | None:
        return _seconds(self.started_at, self.completed_at)

    @strawberry.field
    async def agent(self, info: Info) -> "Agent | None":
        if self.agent_id is None:
            return None
        row = await info.context.loaders.rows.agent.load(self.agent_id)
        return Agent.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: models.StepAttempt) -> Self:
        return cls(
            attempt=row.attempt,
            status=row.status,
            started_at=row.started_at,
            completed_at=row.completed_at,
            exit_code=row.exit_code,
            error=row.error,
            agent_id=row.agent_id,
        )


@strawberry.type
class JobStep:
    index: int
    name: str
    status: StepStatus
    attempt: int = strawberry.field(description="1 on the first try; retryCount = attempt - 1.")
    started_at: datetime | None
    completed_at: datetime | None
    input: JSON | None
    output: JSON | None
    error: str | None
    error_detail: str | None = strawberry.field(
        description="The last lines the step wrote to STDERR before it failed."
    )
    job_number: strawberry.Private[int]

    @strawberry.field(description="Every attempt, first to last (retries included).")
    async def attempts(self, info: Info) -> list[StepAttempt]:
        rows = await info.context.loaders.rows.attempts.load(self.job_number)
        return [StepAttempt.from_row(row) for row in rows if row.step_index == self.index]

    @strawberry.field
    async def logs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        streams: list[LogStream] | None = None,
    ) -> LogConnection:
        return await log_connection(
            info, self.job_number, first=first, after=after, streams=streams, step=self.index
        )

    @strawberry.field(description="The files this step wrote, oldest first.")
    async def artifacts(self, info: Info) -> list[Artifact]:
        return await artifacts_of(info, self.job_number, self.index)

    @strawberry.field
    def retry_count(self) -> int:
        return self.attempt - 1

    @strawberry.field
    def duration_seconds(self) -> float | None:
        return _seconds(self.started_at, self.completed_at)

    @classmethod
    def from_row(cls, row: models.JobStep) -> "JobStep":
        return cls(
            index=row.index,
            name=row.name,
            status=row.status,
            attempt=row.attempt,
            started_at=row.started_at,
            completed_at=row.completed_at,
            input=JSON(row.input),
            output=JSON(row.output),
            error=row.error,
            error_detail=row.error_detail,
            job_number=row.job_number,
        )


@strawberry.type
class Job(relay.Node):
    """A job. Everything that needs no further read is computed once when it is built, so
    most fields resolve as plain attributes (see `jobs_from_rows`)."""

    number: int = strawberry.field(description="Job #N.")
    pipeline_id: str = strawberry.field(
        description="pipeline-job-N; also the orchestrator's workflow id."
    )
    name: str = strawberry.field(
        description="'{workflow-slug} — {ticket-key}' or '{workflow-slug} — queued'."
    )
    status: JobStatus
    effort_level: EffortLevel | None
    effort: JSON | None = strawberry.field(
        description=(
            'What the effort level resolved to for this job\'s workflow, e.g. {"MODEL": "large"}.'
        )
    )
    source: DispatchSource
    definition: JobDefinition | None
    workflow: "Workflow"
    agent: "Agent | None"
    ticket_key: str | None
    ticket_url: str | None
    hint: str | None
    input: JSON
    output: JSON | None
    error: str | None
    current_step: int | None
    step_count: int
    created_at: datetime
    scheduled_for: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None = strawberry.field(
        description="Live for running jobs: now - startedAt."
    )
    temporal_workflow_id: str | None
    can_cancel: bool
    can_resend: bool
    resent_from_number: strawberry.Private[int | None]
    resent_as_number: strawberry.Private[int | None]
    cost_usd: strawberry.Private[float | None]
    automation_id: strawberry.Private[int | None]
    detail: strawberry.Private[bool]
    """Asked for by itself (`job`, `node`, a subscription), not as one of a page."""
    waiting: strawberry.Private[bool]
    """In the queue, holding no slot yet."""
    schedule_id: strawberry.Private[int | None]
    rerun_of_number: strawberry.Private[int | None]
    parent_number: strawberry.Private[int | None]

    @classmethod
    def build(
        cls,
        row: models.Job,
        *,
        workflow: "Workflow",
        agent: "Agent | None",
        now: datetime,
        detail: bool,
    ) -> Self:
        return cls(
            number=row.number,
            pipeline_id=models.pipeline_id(row.number),
            name=f"{workflow.slug} — {row.ticket_key or 'queued'}",
            status=row.status,
            effort_level=row.effort_level,
            effort=JSON(row.effort) if row.effort is not None else None,
            source=row.source,
            definition=JobDefinition.from_stored(row.definition),
            workflow=workflow,
            agent=agent,
            ticket_key=row.ticket_key,
            ticket_url=row.ticket_url,
            hint=row.hint,
            input=JSON(row.input or {}),
            output=JSON(row.output),
            error=row.error,
            current_step=row.current_step,
            step_count=row.step_count,
            created_at=row.created_at,
            scheduled_for=row.scheduled_for,
            started_at=row.started_at,
            completed_at=row.completed_at,
            duration_seconds=_duration(row, now),
            temporal_workflow_id=row.temporal_workflow_id,
            can_cancel=rules.can_cancel(row.status),
            can_resend=rules.can_resend(
                row.status, already_resent=row.resent_as_number is not None
            ),
            resent_from_number=row.resent_from_number,
            resent_as_number=row.resent_as_number,
            cost_usd=row.cost_usd,
            automation_id=row.automation_id,
            detail=detail,
            waiting=row.queued_at is not None and row.assigned_at is None,
            schedule_id=row.schedule_id,
            rerun_of_number=row.rerun_of_number,
            parent_number=row.parent_number,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: strawberry.Info) -> str:
        return str(root.number)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list["Job | None"]:
        rows = await rows_by_node_id(info.context.loaders.rows.job, node_ids, "a job")
        found = [row for row in rows if row is not None]
        built = iter(await jobs_from_rows(info, found, detail=True))
        return [next(built) if row is not None else None for row in rows]

    @strawberry.field
    def trigger(self) -> JobTrigger | None:
        return JobTrigger.from_input(self.input)

    @strawberry.field(description="The automation rule that dispatched the job, if one did.")
    async def automation(self, info: Info) -> "Automation | None":
        if self.automation_id is None:
            return None
        row = await info.context.loaders.rows.automation.load(self.automation_id)
        return Automation.from_row(row) if row is not None else None

    @strawberry.field
    async def notifications(self, info: Info) -> list[NotificationDelivery]:
        rows = await info.context.loaders.rows.notifications.load(self.number)
        return [NotificationDelivery.from_row(row) for row in rows]

    @strawberry.field
    async def steps(self, info: Info) -> list[JobStep]:
        rows = await info.context.loaders.rows.steps.load(self.number)
        return [JobStep.from_row(row) for row in rows]

    @strawberry.field
    async def metrics(self, info: Info) -> JobMetrics:
        rows = await info.context.loaders.rows.steps.load(self.number)
        return JobMetrics.from_steps(rows, duration=self.duration_seconds, cost_usd=self.cost_usd)

    @strawberry.field
    async def events(self, info: Info) -> list[JobEvent]:
        rows = await info.context.loaders.rows.events.load(self.number)
        return [JobEvent.from_row(row) for row in rows]

    @strawberry.field
    async def resent_from(self, info: Info) -> "Job | None":
        return await job_by_number(info, self.resent_from_number, detail=False)

    @strawberry.field
    async def resent_as(self, info: Info) -> "Job | None":
        return await job_by_number(info, self.resent_as_number, detail=False)

    @property
    def workflow_id(self) -> str:
        """The orchestrator's workflow id of the job."""
        return self.temporal_workflow_id or self.pipeline_id

    @strawberry.field(
        description=(
            "The job's workflow in Temporal's web UI, when JOBMONITOR_TEMPORAL_UI_URL is set."
        )
    )
    def temporal_url(self, info: Info) -> str | None:
        settings = info.context.settings
        if settings.temporal_ui_url is None:
            return None
        return workflow_url(
            settings.temporal_ui_url,
            namespace=settings.temporal_namespace,
            workflow_id=self.workflow_id,
        )

    @strawberry.field(description="The finished job this one re-runs.")
    async def rerun_of(self, info: Info) -> "Job | None":
        return await job_by_number(info, self.rerun_of_number, detail=False)

    @strawberry.field(description="The jobs that re-run this one, newest first.")
    async def reruns(self, info: Info) -> list["Job"]:
        rows = await info.context.loaders.rows.reruns.load(self.number)
        return await jobs_from_rows(info, rows, detail=False)

    @strawberry.field(description="The job this one follows up.")
    async def parent(self, info: Info) -> "Job | None":
        return await job_by_number(info, self.parent_number, detail=False)

    @strawberry.field(
        description="The jobs that follow this one up (by hand or by the workflow's chain), "
        "oldest first."
    )
    async def follow_ups(self, info: Info) -> list["Job"]:
        rows = await info.context.loaders.rows.follow_ups.load(self.number)
        return await jobs_from_rows(info, rows, detail=False)

    @strawberry.field(description="The schedule whose run made this job.")
    async def schedule(self, info: Info) -> "Schedule | None":
        if self.schedule_id is None:
            return None
        row = await info.context.loaders.rows.schedule.load(self.schedule_id)
        return Schedule.from_row(row) if row is not None else None

    @strawberry.field
    async def timeline(self, info: Info) -> Timeline:
        """The run's summary, shared by the page's jobs; the history only if `phases` is asked."""
        return await Timeline.read(
            TimelineLookup(info.context.loaders.timeline, self.workflow_id),
            detail=self.detail,
            job_status=self.status,
            job_completed_at=self.completed_at,
        )

    @strawberry.field
    async def logs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        streams: list[LogStream] | None = None,
    ) -> LogConnection:
        return await log_connection(info, self.number, first=first, after=after, streams=streams)

    @strawberry.field(description="The files its steps wrote, oldest first.")
    async def artifacts(self, info: Info) -> list[Artifact]:
        return await artifacts_of(info, self.number)

    @strawberry.field(description="Where to download the whole log (JSON lines).")
    def logs_url(self) -> str:
        return job_logs_path(self.number)

    @strawberry.field(description="Set while the job waits for an agent.")
    async def queue(self, info: Info) -> JobQueuePosition | None:
        if not self.waiting:
            return None
        standing = await info.context.loaders.rows.queue.load(self.number)
        return JobQueuePosition.from_standing(standing) if standing is not None else None


@strawberry.type
class JobEdge:
    cursor: str
    node: Job


@strawberry.type
class JobConnection:
    edges: list[JobEdge]
    page_info: relay.PageInfo
    job_filter: strawberry.Private[DomainJobFilter]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return (await info.context.loaders.lists.job_total(self.job_filter)).count

    @strawberry.field(
        description="Whether `totalCount` is exact: false when the filter matches more jobs "
        "than JOBMONITOR_EXACT_TOTAL_LIMIT and the total was estimated from a sample."
    )
    async def total_count_exact(self, info: Info) -> bool:
        return (await info.context.loaders.lists.job_total(self.job_filter)).exact


def _duration(row: models.Job, now: datetime) -> float | None:
    if row.started_at is None:
        return None
    end = row.completed_at or now
    return max((end - row.started_at).total_seconds(), 0.0)


async def jobs_from_rows(info: Info, rows: Sequence[models.Job], *, detail: bool) -> list[Job]:
    """Jobs with their workflow and agent, loaded for all of them in one batch each; `detail`
    when they were asked for by themselves, not as a page."""
    loaders = info.context.loaders.rows
    agent_ids = list({row.agent_id for row in rows if row.agent_id is not None})
    workflow_rows, agent_rows = await asyncio.gather(
        loaders.workflow.load_many([row.workflow_id for row in rows]),
        loaders.agent.load_many(agent_ids),
    )
    workflows: dict[int, Workflow] = {}
    for workflow_row in workflow_rows:
        if workflow_row is not None:
            workflows.setdefault(workflow_row.id, Workflow.from_row(workflow_row))
    agents = {agent.id: Agent.from_row(agent) for agent in agent_rows if agent is not None}
    now = datetime.now(UTC)
    return [
        Job.build(
            row,
            workflow=workflows[row.workflow_id],
            agent=agents.get(row.agent_id) if row.agent_id is not None else None,
            now=now,
            detail=detail,
        )
        for row in rows
    ]


async def job_by_number(info: Info, number: int | None, *, detail: bool) -> Job | None:
    if number is None:
        return None
    row = await info.context.loaders.rows.job.load(number)
    return (await jobs_from_rows(info, [row], detail=detail))[0] if row is not None else None


async def job_connection(
    info: Info,
    job_filter: DomainJobFilter,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    order: JobOrder = JobOrder.CREATED_AT_DESC,
) -> JobConnection:
    settings = info.context.settings
    page = page_request(
        first=first,
        after=after,
        last=last,
        before=before,
        default_size=settings.page_size,
        max_size=settings.max_page_size,
    )
    lists = info.context.loaders.lists
    reading = lists.job_page(job_filter, order=order, page=page)
    if _selects_total_count(info):
        # The total does not depend on the page: read both at once, not one after the other,
        # and let both end before answering (a failed page leaves no read running behind).
        page_read, total_read = await asyncio.gather(
            reading, lists.job_total(job_filter), return_exceptions=True
        )
        if isinstance(page_read, BaseException):
            raise page_read
        if isinstance(total_read, BaseException):
            raise total_read
        result = page_read
    else:
        result = await reading
    for row in result.jobs:
        info.context.loaders.rows.job.prime(row.number, row)
    nodes = await jobs_from_rows(info, result.jobs, detail=False)
    edges = [
        JobEdge(cursor=result.cursor(row), node=node)
        for row, node in zip(result.jobs, nodes, strict=True)
    ]
    return JobConnection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=result.has_next_page,
            has_previous_page=result.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        job_filter=job_filter,
    )


def _jobs_within(
    scope: Callable[[Any, DomainJobFilter], DomainJobFilter],
) -> Callable[..., Awaitable[JobConnection]]:
    """The `jobs` field of a workflow or an agent: its jobs, narrowed further by `filter`."""

    async def jobs(
        root: Any,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: JobFilter | None = None,
    ) -> JobConnection:
        return await job_connection(
            info, scope(root, domain_filter(filter)), first=first, after=after
        )

    return jobs


def _selects_total_count(info: Info) -> bool:
    """Whether the connection being resolved asks for `totalCount` (fragments included)."""
    pending = [selection for field in info.selected_fields for selection in field.selections]
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            if selection.name == "totalCount":
                return True
        else:
            pending.extend(selection.selections)
    return False


@strawberry.type
class Workflow(relay.Node):
    id_: relay.NodeID[int]
    slug: str = strawberry.field(description="Canonical dash-separated id, e.g. 'se-rca-fix'.")
    display_name: str = strawberry.field(description="Title Case display name, e.g. 'SE Rca Fix'.")
    aliases: list[str] = strawberry.field(
        description="Other ids jobs of this workflow were recorded under, e.g. 'agent_se_rca_fix'."
    )
    input_schema: JSON | None = strawberry.field(
        description="JSON Schema that dispatchJob validates input against; null accepts any object."
    )

    @classmethod
    def from_row(cls, row: models.Workflow) -> Self:
        return cls(
            id_=row.id,
            slug=row.slug,
            display_name=row.display_name,
            aliases=list(row.aliases or ()),
            input_schema=JSON(row.input_schema),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await nodes_by_id(
            info.context.loaders.rows.workflow, node_ids, "a workflow", cls.from_row
        )

    jobs: JobConnection = strawberry.field(
        resolver=_jobs_within(lambda workflow, jobs: replace(jobs, workflow_ids=(workflow.id_,)))
    )


@strawberry.type
class Automation(relay.Node):
    """A webhook rule (`jobmonitor automations load`) and the jobs it dispatched."""

    id_: relay.NodeID[int]
    name: str
    source: str = strawberry.field(description="The webhook source, e.g. 'jira'.")
    enabled: bool
    last_triggered_at: datetime | None
    triggered_count: int
    workflow_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: AutomationRow) -> Self:
        return cls(
            id_=row.id,
            name=row.name,
            source=row.source,
            enabled=row.enabled,
            last_triggered_at=row.last_triggered_at,
            triggered_count=row.triggered_count,
            workflow_id=row.workflow_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await nodes_by_id(
            info.context.loaders.rows.automation, node_ids, "an automation", cls.from_row
        )

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        row = await info.context.loaders.rows.workflow.load(self.workflow_id)
        if row is None:
            raise LookupError(f"workflow {self.workflow_id} of automation {self.name!r} is gone")
        return Workflow.from_row(row)


@strawberry.type
class Agent(relay.Node):
    id_: relay.NodeID[int]
    name: str
    hostname: str | None
    avatar_url: str | None
    status: AgentStatus
    last_seen_at: datetime | None
    slots: int = strawberry.field(description="Jobs it runs at once.")
    workflows: list[str] = strawberry.field(description="Workflow slugs it runs; empty means any.")

    @classmethod
    def from_row(cls, row: models.Agent) -> Self:
        return cls(
            id_=row.id,
            name=row.name,
            hostname=row.hostname,
            avatar_url=row.avatar_url,
            status=row.status,
            last_seen_at=row.last_seen_at,
            slots=row.slots,
            workflows=list(row.workflows or ()),
        )

    @strawberry.field
    async def running_jobs(self, info: Info) -> int:
        return await info.context.loaders.rows.running_jobs.load(self.id_)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await nodes_by_id(
            info.context.loaders.rows.agent, node_ids, "an agent", cls.from_row
        )

    jobs: JobConnection = strawberry.field(
        resolver=_jobs_within(lambda agent, jobs: replace(jobs, agent_ids=(agent.id_,)))
    )


@strawberry.type
class Schedule(relay.Node):
    id_: relay.NodeID[int]
    cron: str | None
    interval_seconds: int | None
    timezone: str
    input: JSON | None
    agent: str | None
    effort_level: EffortLevel | None
    overlap: ScheduleOverlap = strawberry.field(
        description="What a run does when the previous run is still going."
    )
    paused: bool
    note: str | None
    created_at: datetime
    workflow_id: strawberry.Private[int]
    key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Schedule) -> Self:
        return cls(
            id_=row.id,
            cron=row.cron,
            interval_seconds=row.interval_seconds,
            timezone=row.timezone,
            input=JSON(row.input),
            agent=row.agent,
            effort_level=row.effort_level,
            overlap=row.overlap,
            paused=row.paused,
            note=row.note,
            created_at=row.created_at,
            workflow_id=row.workflow_id,
            key=row.temporal_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await nodes_by_id(
            info.context.loaders.rows.schedule, node_ids, "a schedule", cls.from_row
        )

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        row = await info.context.loaders.rows.workflow.load(self.workflow_id)
        if row is None:
            raise NotFound(f"schedule #{self.id_} has no workflow", field="workflow")
        return Workflow.from_row(row)

    @strawberry.field(description="The next times it runs, from Temporal (at most 10).")
    async def next_run_times(self, info: Info, count: int | None = 5) -> list[datetime]:
        return await info.context.loaders.schedule_times.load(
            (self.key, 5 if count is None else count)
        )

    @strawberry.field(description="The jobs its runs made, newest first.")
    async def recent_jobs(self, info: Info, first: int | None = 10) -> list[Job]:
        first = 10 if first is None else first
        if not 0 <= first <= RECENT_JOBS_MAX:
            raise InvalidArgument(
                f"`first` must be between 0 and {RECENT_JOBS_MAX} (got {first})", field="first"
            )
        rows = await info.context.loaders.rows.schedule_jobs.load((self.id_, first))
        return await jobs_from_rows(info, rows, detail=False)

"""The tables. Every row carries a tenant id; jobs are numbered globally (Job #N)."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.domain.enums import (
    AgentStatus,
    DeliveryStatus,
    DispatchSource,
    EffortLevel,
    JobStatus,
    LogStream,
    ScheduleOverlap,
    StepStatus,
)
from server.domain.roles import Role

from .types import JSONDocument, UTCDateTime

DEFAULT_TENANT = "default"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(enum_type: type[Any]) -> Enum:
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Workflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    slug: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    input_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # The YAML text it was loaded from (None for rows not loaded from a file).
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    name: Mapped[str] = mapped_column(String(200))
    hostname: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[AgentStatus] = mapped_column(_enum(AgentStatus), default=AgentStatus.OFFLINE)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Jobs it runs at once, and the workflow slugs it takes (empty: any).
    slots: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    workflows: Mapped[list[str]] = mapped_column(JSONDocument, default=list)


class Automation(Base):
    """A rule that dispatches a workflow when a webhook payload of its source matches."""

    __tablename__ = "automations"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id"))
    enabled: Mapped[bool] = mapped_column(default=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HookDelivery(Base):
    """A webhook delivery received: its id (or issue key and event) refuses a replay."""

    __tablename__ = "hook_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "delivery_id"),
        Index("ix_hook_deliveries_event", "tenant_id", "source", "event_key", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str | None] = mapped_column(String(200))
    event_key: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The Jobs page: newest first, per status tab, per workflow and per agent.
        Index("ix_jobs_tenant_created", "tenant_id", "created_at", "number"),
        Index("ix_jobs_tenant_status_created", "tenant_id", "status", "created_at", "number"),
        Index(
            "ix_jobs_tenant_workflow_created", "tenant_id", "workflow_id", "created_at", "number"
        ),
        Index("ix_jobs_tenant_agent_created", "tenant_id", "agent_id", "created_at", "number"),
        # Tab counts of a workflow or agent filter read these without touching the table.
        Index("ix_jobs_tenant_workflow_status", "tenant_id", "workflow_id", "status"),
        Index("ix_jobs_tenant_agent_status", "tenant_id", "agent_id", "status"),
        # An automation's triggered count and last trigger.
        Index("ix_jobs_automation_created", "automation_id", "created_at"),
        # The queue: waiting jobs of a tenant, oldest first.
        Index("ix_jobs_tenant_queued", "tenant_id", "queued_at", "number"),
        # A schedule's recent jobs, newest first.
        Index("ix_jobs_schedule_number", "schedule_id", "number"),
        # jobStats: every column its statements read, so a month of jobs is read from the
        # index alone (docs/statistics.md).
        Index(
            "ix_jobs_tenant_created_stats",
            "tenant_id",
            "created_at",
            "workflow_id",
            "status",
            "started_at",
            "completed_at",
            "cost_usd",
        ),
        # A job's reruns, newest first.
        Index("ix_jobs_rerun_of_number", "rerun_of_number", "number"),
        # A job's follow-ups; a chain rule of the parent's workflow fires at most once per job.
        Index("ix_jobs_parent_rule", "parent_number", "follow_up_rule", unique=True),
        UniqueConstraint("tenant_id", "idempotency_key"),
        # At most one resend of a job, whatever races: the database says no to the second.
        UniqueConstraint("resent_from_number"),
    )

    number: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus))
    effort_level: Mapped[EffortLevel | None] = mapped_column(_enum(EffortLevel))
    # What the effort level resolved to in the job's definition, e.g. {"MODEL": "large"}.
    effort: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    source: Mapped[DispatchSource] = mapped_column(
        _enum(DispatchSource),
        default=DispatchSource.RUN_WORKFLOW,
        server_default=DispatchSource.RUN_WORKFLOW.value,
    )
    # The workflow definition frozen at creation: {"version", "source", "steps", ...}.
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # The queue: set while the job waits for an agent; `assigned_at` once it holds a slot of
    # `agent_id`. `agent_pinned`: the dispatch named the agent, so only it may run the job.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_pinned: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    input: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    hint: Mapped[str | None] = mapped_column(Text)
    ticket_key: Mapped[str | None] = mapped_column(String(64))
    ticket_url: Mapped[str | None] = mapped_column(String(500))
    output: Mapped[Any | None] = mapped_column(JSONDocument)
    error: Mapped[str | None] = mapped_column(Text)
    current_step: Mapped[int | None] = mapped_column(Integer)
    step_count: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    temporal_workflow_id: Mapped[str | None] = mapped_column(String(200))
    resent_from_number: Mapped[int | None] = mapped_column(ForeignKey("jobs.number"))
    resent_as_number: Mapped[int | None] = mapped_column(BigId)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The schedule whose run made the job (kept as a plain id once the schedule is deleted).
    schedule_id: Mapped[int | None] = mapped_column(BigId)
    # The finished job this one re-runs (any number of reruns per job).
    rerun_of_number: Mapped[int | None] = mapped_column(BigId)
    # The finished job this one follows up; `follow_up_rule` is the index of the parent
    # workflow's `follow_ups` entry that made it (None: made by hand with followUpOf).
    parent_number: Mapped[int | None] = mapped_column(BigId)
    follow_up_rule: Mapped[int | None] = mapped_column(Integer)
    # How many follow-ups lead to this job (0: it follows nothing).
    chain_depth: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    slack_channel: Mapped[str | None] = mapped_column(String(200))
    slack_thread_ts: Mapped[str | None] = mapped_column(String(64))
    automation_id: Mapped[int | None] = mapped_column(ForeignKey("automations.id"))
    # Optimistic concurrency: an UPDATE that lost a race to another writer fails loudly.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the mapper

    @property
    def pipeline_id(self) -> str:
        return pipeline_id(self.number)


def pipeline_id(number: int) -> str:
    return f"pipeline-job-{number}"


class Schedule(Base):
    """A recurring job. Its timing lives in a Temporal Schedule (`temporal_id`); this row is
    what the API lists, and what each run reads to make its job."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_tenant_workflow", "tenant_id", "workflow_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    temporal_id: Mapped[str] = mapped_column(String(200), unique=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id"))
    cron: Mapped[str | None] = mapped_column(String(200))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    input: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    agent: Mapped[str | None] = mapped_column(String(200))
    effort_level: Mapped[EffortLevel | None] = mapped_column(_enum(EffortLevel))
    overlap: Mapped[ScheduleOverlap] = mapped_column(_enum(ScheduleOverlap))
    paused: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobStep(Base):
    __tablename__ = "job_steps"
    __table_args__ = (UniqueConstraint("job_number", "index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[StepStatus] = mapped_column(_enum(StepStatus), default=StepStatus.PENDING)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    input: Mapped[Any | None] = mapped_column(JSONDocument)
    output: Mapped[Any | None] = mapped_column(JSONDocument)
    error: Mapped[str | None] = mapped_column(Text)
    # The last STDERR lines of the failed attempt.
    error_detail: Mapped[str | None] = mapped_column(Text)


class StepAttempt(Base):
    """One attempt of a step: a retry adds a row, so earlier failures stay readable."""

    __tablename__ = "step_attempts"
    __table_args__ = (UniqueConstraint("job_number", "step_index", "attempt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    step_index: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[StepStatus] = mapped_column(_enum(StepStatus))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class JobEvent(Base):
    """A status change. `sequence` is global and monotonic: subscribers resume from it."""

    __tablename__ = "job_events"
    __table_args__ = (
        Index("ix_job_events_job_sequence", "job_number", "sequence"),
        Index("ix_job_events_tenant_sequence", "tenant_id", "sequence"),
    )

    sequence: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    from_status: Mapped[JobStatus | None] = mapped_column(_enum(JobStatus))
    to_status: Mapped[JobStatus] = mapped_column(_enum(JobStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)


class LogLine(Base):
    """One line of a job's output; `sequence` is monotonic within the job."""

    __tablename__ = "log_lines"
    __table_args__ = (
        UniqueConstraint("job_number", "sequence"),
        Index("ix_log_lines_job_step_sequence", "job_number", "step", "sequence"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    # The step (index) and attempt whose process wrote it; None for job-level lines.
    step: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int | None] = mapped_column(Integer)
    stream: Mapped[LogStream] = mapped_column(_enum(LogStream))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobOutbox(Base):
    """A workflow start owed to Temporal, written in the same transaction as the job.

    The dispatcher delivers it (workflow id = pipeline id, so a repeat is harmless) and stamps
    `delivered_at`; while Temporal is down the row waits and nothing is lost.
    """

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_delivered_id", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    job_number: Mapped[int] = mapped_column(
        ForeignKey("jobs.number", ondelete="CASCADE"), unique=True
    )
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobSignalOutbox(Base):
    """A message owed to a job's workflow (a signal, or a cancellation), written in the same
    transaction as the status change it follows.

    The dispatcher sends it after commit and stamps `delivered_at`: a transaction that is
    retried or rolled back sends nothing, and a process that dies after commit leaves the row
    for the next round. A job's messages go out in the order they were written.
    """

    __tablename__ = "job_signal_outbox"
    __table_args__ = (
        Index("ix_job_signal_outbox_delivered_id", "delivered_at", "id"),
        Index("ix_job_signal_outbox_job_number", "job_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_TENANT)
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    workflow_id: Mapped[str] = mapped_column(String(255))
    signal: Mapped[str] = mapped_column(String(16))
    """A job workflow signal's name, or `cancel`."""
    actor: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """While set and in the future, one dispatcher is sending the message."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobStatusCount(Base):
    """How many jobs each tenant has in each status.

    Kept by the state machine in the same transaction as the status change, so the
    unfiltered tab counts read a handful of rows instead of counting a million.
    """

    __tablename__ = "job_status_counts"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class ApiToken(Base):
    """A Bearer token: only its SHA-256 digest is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PersistedOperation(Base):
    """A GraphQL document known by its id (its SHA-256, or the id of a persisted-operations
    manifest): registered by an operator, or remembered from a client (automatic persisted
    queries, a bounded set evicted least recently loaded first)."""

    __tablename__ = "persisted_operations"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(Boolean)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When a server last read it from here (not each use: servers keep it in memory)."""

    __table_args__ = (
        Index("ix_persisted_operations_registered_loaded", "registered", "loaded_at"),
    )


__all__ = [
    "DEFAULT_TENANT",
    "Agent",
    "ApiToken",
    "Base",
    "Job",
    "JobEvent",
    "JobOutbox",
    "JobStatusCount",
    "JobStep",
    "LogLine",
    "PersistedOperation",
    "Schedule",
    "StepAttempt",
    "Workflow",
    "pipeline_id",
]


class JobNotification(Base):
    """A notification owed to a target for a job reaching a status: written in the transaction
    of the change, sent after commit, at most one row per (job, status, target)."""

    __tablename__ = "job_notifications"
    __table_args__ = (
        UniqueConstraint("job_number", "status", "target"),
        Index("ix_job_notifications_due", "delivery", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(200))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus))
    delivery: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """An action kept for the record once its rows are gone: who deleted how many jobs, and
    with which ids or filter."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Artifact(Base):
    """A file a step wrote to its `JOB_ARTIFACTS` folder. Its bytes are in the artifact store
    (a directory, or `artifact_chunks`), keyed by this row's id; `name` is only shown."""

    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_job_number", "job_number", "id"),
        UniqueConstraint("job_number", "step", "attempt", "name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    job_number: Mapped[int] = mapped_column(ForeignKey("jobs.number", ondelete="CASCADE"))
    step: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    """The content's digest; PENDING_ARTIFACT while its bytes are being stored."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


PENDING_ARTIFACT = ""


class ArtifactChunk(Base):
    """The bytes of an artifact kept in the database, in chunks of at most 256 KiB."""

    __tablename__ = "artifact_chunks"

    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

"""The composition root: every long-lived part of a process, each built once, here.

The app factory and the command line build a `Runtime` and hand each consumer only what it
uses (the request context gets the job service and the live hub, the worker the execution
service and the outbox, the agent the execution service); nothing below this module imports it.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from server.db import migrate
from server.db.engine import create_read_session_factory, create_session_factory, engine_for
from server.events import EventBus, InProcessBus
from server.events.postgres import PostgresBus
from server.live.hub import LiveHub
from server.operations import OperationStore
from server.services.artifacts import ArtifactLimits, ArtifactService, store_for
from server.services.automations import AutomationService
from server.services.deletion import JobDeletion
from server.services.execution import ExecutionService
from server.services.jobs import JobService
from server.services.notifications import NotificationDispatcher, RetryPolicy
from server.services.orchestrator import Orchestrator
from server.services.outbox import OutboxDispatcher
from server.services.queue import QueueService
from server.services.schedules import ScheduleService
from server.settings import EventBusKind, Settings
from server.temporal.agent import AgentIdentity, AgentServices, running_agent
from server.temporal.agent_activities import AgentActivities
from server.temporal.orchestrator import create_orchestrator
from server.temporal.schedules import create_scheduler
from server.temporal.worker import running_worker
from server.timeline.sources import TimelineSources


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    read_session_factory: async_sessionmaker[AsyncSession]
    bus: EventBus
    jobs: JobService
    """The API's actions."""
    schedules: ScheduleService
    """Recurring jobs, on the orchestrator's schedules; each run makes its job through it."""
    execution: ExecutionService
    """The writes made while a job runs (the worker's and the agents' activities)."""
    queue: QueueService
    """Hands out agents' slots to waiting jobs (the worker's and the agents' activities)."""
    outbox: OutboxDispatcher
    """Sends Temporal what it is owed after commit: workflow starts, signals, cancellations."""
    live: LiveHub
    operations: OperationStore
    automations: AutomationService
    """Webhook rules: stored from files, turned into jobs through `jobs`."""
    notifications: NotificationDispatcher
    """Sends the notifications workflows owe their targets, after commit."""
    artifacts: ArtifactService
    """The files steps write: kept by the agents, served by the API."""
    deletion: JobDeletion
    """Deletes finished jobs with all they own (deleteJobs, the retention)."""
    timeline: TimelineSources | None = None
    """Temporal's side of job timelines, with the caches shared by requests."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        engine = engine_for(settings)
        session_factory = create_session_factory(engine)
        bus = create_bus(settings.event_bus, engine, listen_url=settings.event_bus_url)
        outbox = OutboxDispatcher(session_factory, bus, create_orchestrator(settings))
        jobs = JobService(session_factory, bus, outbox)
        artifacts = artifacts_for(settings, session_factory, bus, dialect=engine.dialect.name)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            read_session_factory=create_read_session_factory(engine),
            bus=bus,
            jobs=jobs,
            schedules=ScheduleService(session_factory, create_scheduler(settings), jobs),
            execution=ExecutionService(session_factory, bus),
            queue=QueueService(session_factory, bus),
            outbox=outbox,
            live=LiveHub(
                session_factory,
                bus,
                feed_limit=settings.live_queue_size * 4,
                counts_interval=settings.counts_push_seconds,
                query_concurrency=settings.live_query_concurrency,
            ),
            operations=OperationStore(session_factory, capacity=settings.persisted_queries_size),
            automations=automations_for(settings, session_factory, jobs),
            notifications=notifications_for(settings, session_factory),
            artifacts=artifacts,
            deletion=JobDeletion(session_factory, bus, artifacts),
            timeline=TimelineSources.from_settings(settings),
        )

    def with_orchestrator(self, orchestrator: Orchestrator, settings: Settings) -> "Runtime":
        """The same database, bus and hub, with the actions and the outbox going to another
        orchestrator (a process pointed at another Temporal), and the schedules to the
        Temporal `settings` name."""
        outbox = OutboxDispatcher(self.session_factory, self.bus, orchestrator)
        jobs = JobService(self.session_factory, self.bus, outbox)
        automations = automations_for(settings, self.session_factory, jobs)
        schedules = ScheduleService(self.session_factory, create_scheduler(settings), jobs)
        return replace(
            self,
            settings=settings,
            jobs=jobs,
            schedules=schedules,
            outbox=outbox,
            automations=automations,
        )

    @asynccontextmanager
    async def running_worker(
        self, client: Client, *, outbox: bool = True, outbox_tenant: str | None = None
    ) -> AsyncIterator[Worker]:
        """The control-plane worker on this process's task queue, delivering the outbox and
        the notifications (of one tenant, or all) and keeping the retention, unless `outbox` is
        False."""
        async with running_worker(
            client,
            self.execution,
            self.queue,
            self.schedules,
            task_queue=self.settings.temporal_task_queue,
            heartbeat_timeout_seconds=self.settings.agent_heartbeat_timeout_seconds,
            outbox=self.outbox if outbox else None,
            outbox_interval=self.settings.outbox_interval_seconds,
            outbox_tenant=outbox_tenant,
            shutdown_grace=timedelta(seconds=self.settings.shutdown_grace_seconds),
        ) as worker:
            if not outbox:
                yield worker
                return
            async with (
                self.notifications.running(
                    self.settings.notify_interval_seconds, tenant=outbox_tenant
                ),
                self.deletion.retaining(
                    self.settings.retention_days,
                    interval=self.settings.retention_interval_seconds,
                ),
            ):
                yield worker

    def running_agent(
        self, client: Client, identity: AgentIdentity
    ) -> AbstractAsyncContextManager[AgentActivities]:
        """An agent of this process: online (and taking jobs) until the block ends."""
        return running_agent(
            client, AgentServices(self.execution, self.queue, self.artifacts), identity
        )

    async def close(self) -> None:
        await self.live.close()
        await self.bus.close()
        await self.engine.dispose()


def automations_for(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], jobs: JobService
) -> AutomationService:
    return AutomationService(
        session_factory,
        jobs,
        replay_window=timedelta(seconds=settings.hook_replay_window_seconds),
    )


def artifacts_for(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    bus: EventBus,
    *,
    dialect: str,
) -> ArtifactService:
    store = store_for(
        settings.artifacts_store,
        directory=settings.artifacts_dir,
        session_factory=session_factory,
        dialect=dialect,
    )
    limits = ArtifactLimits(
        per_artifact=settings.artifact_max_bytes, per_job=settings.artifact_job_max_bytes
    )
    return ArtifactService(
        session_factory, bus, store, limits, scan_seconds=settings.artifact_scan_seconds
    )


def notifications_for(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> NotificationDispatcher:
    return NotificationDispatcher(
        session_factory,
        settings.notify_targets,
        policy=RetryPolicy(
            max_attempts=settings.notify_max_attempts,
            backoff=settings.notify_backoff_seconds,
            timeout=settings.notify_timeout_seconds,
        ),
        per_target=settings.notify_per_target,
    )


def create_bus(kind: EventBusKind, engine: AsyncEngine, *, listen_url: str | None) -> EventBus:
    """LISTEN/NOTIFY on PostgreSQL, in-process otherwise (or as JOBMONITOR_EVENT_BUS says).
    `listen_url`: a direct connection for LISTEN when the engine goes through a
    transaction-mode pooler (None: the engine's own URL)."""
    on_postgres = engine.dialect.name == "postgresql"
    if kind is EventBusKind.POSTGRES and not on_postgres:
        raise ValueError("JOBMONITOR_EVENT_BUS=postgres needs a PostgreSQL database")
    if kind is EventBusKind.POSTGRES or (kind is EventBusKind.AUTO and on_postgres):
        return PostgresBus(engine, listen_url=listen_url)
    return InProcessBus()


@asynccontextmanager
async def process_runtime(settings: Settings, *, migrate_schema: bool) -> AsyncIterator[Runtime]:
    """A runtime for one command-line process, closed at the end: its schema migrated
    (`migrate_schema`, under the migration lock) or checked to be current (SchemaBehind)."""
    runtime = Runtime.from_settings(settings)
    try:
        await migrate.prepare(runtime.engine, migrate=migrate_schema)
        yield runtime
    finally:
        await runtime.close()

"""The typed request context: who asks, the services it may use, and the loaders of this one
request. The web layer builds it (see `server.web.context`)."""

from dataclasses import dataclass, field

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext

from dataloaders import Loaders
from server.auth import Principal
from server.live.hub import LiveHub
from server.operations import OperationStore
from server.services.deletion import JobDeletion
from server.services.jobs import JobService
from server.services.schedules import ScheduleService
from server.settings import Settings
from server.timeline.sources import TimelineSources


@dataclass
class Context(BaseContext):
    principal: Principal
    settings: Settings
    jobs: JobService
    """Every action (mutation) goes through it."""
    schedules: ScheduleService
    """Schedule actions, and what Temporal says of a schedule's next runs."""
    live: LiveHub
    """What the subscriptions stream from."""
    read_session_factory: async_sessionmaker[AsyncSession]
    operations: OperationStore
    """The persisted operations (automatic persisted queries, registered operations)."""
    deletion: JobDeletion
    """Deletes finished jobs (deleteJobs)."""
    timeline: TimelineSources | None = None
    request_id: str = ""
    """Names the request in the logs and in masked error messages."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        super().__init__()
        self.renew_loaders()

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def actor(self) -> str | None:
        return self.principal.actor

    def renew_loaders(self) -> None:
        """Loaders live for one request; a subscription renews them for each event, so its
        fields read the rows afresh."""
        self.loaders = Loaders.for_request(
            self.read_session_factory,
            tenant=self.tenant,
            exact_total_limit=self.settings.exact_total_limit,
            next_run_times=self.schedules.next_run_times,
            timeline=self.timeline,
        )


Info = strawberry.Info[Context, None]

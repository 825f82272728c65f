"""Configuration from the environment (prefix JOBMONITOR_) or a `.env` file."""

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthMode(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class EventBusKind(StrEnum):
    AUTO = "auto"
    MEMORY = "memory"
    POSTGRES = "postgres"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBMONITOR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./jobmonitor.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://...",
    )
    default_tenant: str = Field(default="default", description="Tenant of unauthenticated use.")
    page_size: int = Field(default=50, ge=1, description="Jobs per page when `first` is omitted.")
    max_page_size: int = Field(default=100, ge=1, description="Largest `first`/`last` accepted.")
    graphiql: bool = Field(default=True, description="Serve GraphiQL at /graphql in a browser.")
    introspection: bool = Field(default=True, description="Answer introspection queries.")
    auth: AuthMode = Field(
        default=AuthMode.ENABLED,
        description="`enabled`: every request needs a Bearer token; `disabled`: local use only.",
    )
    token_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a checked token is trusted before it is re-read."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per minute per token (0: unlimited)."
    )
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests a token may burst.")
    max_query_depth: int = Field(default=12, ge=1, description="Deepest selection accepted.")
    max_query_tokens: int = Field(default=2000, ge=1, description="Most tokens in a document.")
    max_aliases: int = Field(default=30, ge=0, description="Most aliases in a document.")
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="Largest request body.")
    execution_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest a query or mutation may run."
    )
    mask_errors: bool = Field(
        default=True, description="Hide unexpected errors behind a request id (logged in full)."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description='Browser origins allowed, e.g. ["https://ops.example"].'
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement.")
    event_bus: EventBusKind = Field(
        default=EventBusKind.AUTO,
        description="`memory`: one process; `postgres`: LISTEN/NOTIFY across replicas and "
        "workers; `auto`: postgres on a PostgreSQL database, memory otherwise.",
    )
    live_queue_size: int = Field(
        default=256, ge=1, description="Messages a websocket may have waiting before it is cut off."
    )
    ws_keepalive_seconds: float = Field(
        default=15.0, gt=0, description="Interval of websocket keep-alive pings."
    )
    ws_init_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a websocket may take to send connection_init."
    )
    counts_push_seconds: float = Field(
        default=0.25, ge=0, description="Shortest interval between two live tab-count pushes."
    )
    temporal_address: str | None = Field(
        default=None,
        description="Temporal frontend host:port; unset, dispatches wait in the outbox.",
    )
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    temporal_ui_url: str | None = Field(
        default=None,
        description="Temporal's web UI, e.g. http://127.0.0.1:8233: jobs link to their workflow "
        "there (`Job.temporalUrl`); unset, they have no link.",
    )
    temporal_task_queue: str = Field(
        default="jobmonitor", description="Task queue of the job workflow and control activities."
    )
    temporal_lookup_timeout: float = Field(
        default=1.0,
        gt=0,
        description="Longest a timeline waits on Temporal before answering 'Temporal unreachable'.",
    )
    temporal_visibility_rate: float = Field(
        default=5.0,
        gt=0,
        description="Visibility calls per second this process may make (Temporal allows 10 per "
        "namespace per frontend by default, shared with everyone).",
    )
    temporal_batch_window: float = Field(
        default=0.002,
        ge=0,
        description="Seconds a timeline lookup waits for others to share its visibility call.",
    )
    temporal_history_concurrency: int = Field(
        default=16, ge=1, description="Most history reads in flight at once."
    )
    timeline_open_ttl: float = Field(
        default=2.0,
        ge=0,
        description="Seconds what Temporal says about a running job is reused; closed runs never "
        "change and are kept until evicted.",
    )
    timeline_cache_size: int = Field(
        default=10_000, ge=0, description="Run summaries kept across requests."
    )
    timeline_history_cache_size: int = Field(
        default=2_000, ge=0, description="Built timelines (phases) of runs kept across requests."
    )
    workspace_root: Path = Field(
        default=Path("./workspaces"), description="Where an agent makes each job's workspace."
    )
    outbox_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the outbox dispatcher retries pending starts."
    )

"""Configuration from the environment (prefix JOBMONITOR_) or a `.env` file."""

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StartupError(Exception):
    """A process cannot start (a setting, a file, the schema, a handshake): the message says
    why and what to do, and never holds a secret."""


class AuthMode(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class EventBusKind(StrEnum):
    AUTO = "auto"
    MEMORY = "memory"
    POSTGRES = "postgres"


class OperationsMode(StrEnum):
    ANY = "any"
    REGISTERED = "registered"


class ArtifactStoreKind(StrEnum):
    AUTO = "auto"
    DIRECTORY = "directory"
    DATABASE = "database"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class NotifyKind(StrEnum):
    SLACK = "slack"
    """A Slack-compatible incoming webhook: a message; a `ts` in the answer keeps the job's
    thread for its later messages."""
    WEBHOOK = "webhook"
    """The status event as JSON, signed with HMAC-SHA256 when the target has a secret."""


class NotifyTarget(BaseModel):
    """Where notifications go; workflows name it in their `notify:` list."""

    kind: NotifyKind
    url: SecretStr
    secret: SecretStr | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBMONITOR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./jobmonitor.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://...",
    )
    default_tenant: str = Field(default="default", description="Tenant of unauthenticated use.")
    page_size: int = Field(default=50, ge=1, description="Jobs per page when `first` is omitted.")
    max_page_size: int = Field(default=100, ge=1, description="Largest `first`/`last` accepted.")
    exact_total_limit: int = Field(
        default=2_000,
        ge=1,
        description="`totalCount` of a filtered job list is exact up to this many jobs; above "
        "it, on PostgreSQL, it is estimated from a sample and `totalCountExact` is false.",
    )
    graphiql: bool = Field(
        default=False, description="Serve GraphiQL at /graphql in a browser (on under `dev`)."
    )
    introspection: bool = Field(
        default=False, description="Answer introspection queries (on under `dev`)."
    )
    api_docs: bool = Field(
        default=False,
        description="Serve FastAPI's /docs, /redoc and /openapi.json (on under `dev`).",
    )
    auth: AuthMode = Field(
        default=AuthMode.ENABLED,
        description="`enabled`: every request needs a Bearer token; `disabled`: local use only.",
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="With auth disabled, serve connections that arrive on addresses other "
        "than loopback (a trusted network only).",
    )
    token_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a checked token is trusted before it is re-read."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per minute per token (0: unlimited)."
    )
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests a token may burst.")
    unauthenticated_rate_per_minute: int = Field(
        default=60,
        ge=0,
        description="Requests without a valid token per minute per client address (0: unlimited).",
    )
    unauthenticated_rate_burst: int = Field(
        default=20, ge=1, description="Requests without a valid token an address may burst."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description='Proxies whose X-Forwarded-For names the client, e.g. ["10.0.0.7"]; '
        "from any other peer the header is ignored.",
    )
    max_query_depth: int = Field(default=12, ge=1, description="Deepest selection accepted.")
    max_query_tokens: int = Field(default=2000, ge=1, description="Most tokens in a document.")
    max_aliases: int = Field(default=30, ge=0, description="Most aliases in a document.")
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="Largest request body.")
    max_query_cost: int = Field(
        default=50_000,
        ge=1,
        description="Largest estimated cost of an operation: each field counts once per "
        "object its parent may return, pages (`first`/`last`) multiply what they hold.",
    )
    share_identical_reads: bool = Field(
        default=True,
        description="Identical queries in flight at once (same tenant, role, document and "
        "variables) share one execution; none takes an answer begun before it arrived.",
    )
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
    ws_max_operations_per_socket: int = Field(
        default=100, ge=1, description="Operations one websocket may have open at once."
    )
    ws_max_operations_per_token: int = Field(
        default=500,
        ge=1,
        description="Operations one token may have open at once, over all its websockets "
        "(per process).",
    )
    live_query_concurrency: int = Field(
        default=4,
        ge=1,
        description="Filter queries the live hub runs at once when it sorts status changes "
        "among subscribers; taken in turn from each tenant.",
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
    operations: OperationsMode = Field(
        default=OperationsMode.ANY,
        description="`any`: any operation, and automatic persisted queries; `registered`: only "
        "the operations registered with `jobmonitor operations register`.",
    )
    persisted_queries_size: int = Field(
        default=10_000,
        ge=0,
        description="Automatic persisted queries kept in the database for every replica (least "
        "recently loaded evicted first; 0: none kept).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Serve Prometheus metrics at /metrics to scrapers that send this token as "
        "`Authorization: Bearer <token>`; unset, /metrics does not exist.",
    )
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="`json`: one JSON object per log line (time, level, logger, message, "
        "request id, trace ids, exception).",
    )
    outbox_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the outbox dispatcher retries pending starts."
    )
    agent_heartbeat_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a running step may go without a heartbeat from its agent before "
        "the agent is taken as gone and the attempt fails.",
    )

    schedule_catchup_window_seconds: int = Field(
        default=600,
        ge=10,
        description="Runs of a schedule missed while Temporal or the workers were down start "
        "late if they are at most this old (Temporal's catch-up window); older ones are skipped.",
    )

    # Deployment: the database pool, Temporal's security, migrations, probes and shutdown
    # (docs/deployment.md).
    database_url_file: Path | None = Field(
        default=None, description="A file holding JOBMONITOR_DATABASE_URL (a mounted secret)."
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Processes of `jobmonitor serve` sharing its port (PostgreSQL only: they "
        "hear each other's events through LISTEN/NOTIFY).",
    )
    database_pool_size: int = Field(
        default=10, ge=1, description="PostgreSQL connections each process keeps open."
    )
    database_max_overflow: int = Field(
        default=20, ge=0, description="Connections a process may open beyond the pool at peaks."
    )
    database_pool_timeout: float = Field(
        default=30.0, gt=0, description="Longest a request waits for a free connection."
    )
    database_statement_cache: int = Field(
        default=100,
        ge=0,
        description="Prepared statements asyncpg keeps per connection; 0 behind PgBouncer in "
        "transaction mode.",
    )
    event_bus_url: str | None = Field(
        default=None,
        description="A direct PostgreSQL URL for the event bus's LISTEN connection (needed "
        "when JOBMONITOR_DATABASE_URL goes through a transaction-mode pooler); unset, the "
        "database URL.",
    )
    event_bus_url_file: Path | None = Field(
        default=None, description="A file holding JOBMONITOR_EVENT_BUS_URL."
    )
    temporal_tls_ca: Path | None = Field(
        default=None, description="CA certificate (PEM) that signed Temporal's certificate."
    )
    temporal_tls_cert: Path | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS with Temporal."
    )
    temporal_tls_key: Path | None = Field(
        default=None, description="Private key (PEM) of JOBMONITOR_TEMPORAL_TLS_CERT."
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="Name Temporal's certificate is checked against (and SNI)."
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, description="API key sent to Temporal (TLS is then on by default)."
    )
    temporal_api_key_file: Path | None = Field(
        default=None, description="A file holding JOBMONITOR_TEMPORAL_API_KEY."
    )
    auto_migrate: bool = Field(
        default=False,
        description="`serve`, `worker` and `agent` migrate the database at start (under a "
        "lock); otherwise they refuse to start on a schema behind their code.",
    )
    shutdown_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        description="On SIGTERM, how long requests, websockets, activities and agent steps get "
        "to finish; the process exits at most 4 s later whatever it waits on.",
    )
    probe_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`worker` and `agent` serve /healthz and /readyz on this port.",
    )

    # Automations: webhooks in (docs/automations.md).
    hook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Webhook sources and their HMAC secrets, e.g. {"jira": "..."}; '
        "a source not listed is 404.",
    )
    hook_replay_window_seconds: float = Field(
        default=600.0,
        ge=0,
        description="A delivery without an id repeating an issue key and event within this "
        "window dispatches nothing.",
    )
    hook_rate_per_minute: int = Field(
        default=120, ge=0, description="Webhook requests per minute per source (0: unlimited)."
    )
    hook_rate_burst: int = Field(
        default=30, ge=1, description="Webhook requests a source may burst."
    )

    # Notifications: webhooks out (docs/automations.md).
    notify_targets: dict[str, NotifyTarget] = Field(
        default_factory=dict,
        description='Notification targets by name, e.g. {"ops": {"kind": "slack", "url": "..."}}.',
    )
    notify_max_attempts: int = Field(
        default=6, ge=1, description="Attempts at a notification before it is FAILED."
    )
    notify_backoff_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubled each attempt, with jitter."
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest one notification request may take."
    )
    notify_per_target: int = Field(
        default=4, ge=1, description="Notifications in flight at once per target."
    )
    notify_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the worker looks for notifications due."
    )
    artifacts_store: ArtifactStoreKind = Field(
        default=ArtifactStoreKind.AUTO,
        description="Where artifacts' bytes are kept: `directory` (ARTIFACTS_DIR), `database` "
        "(PostgreSQL only), `auto`: the database on PostgreSQL, the directory otherwise.",
    )
    artifacts_dir: Path = Field(
        default=Path("./artifacts"), description="The artifact directory (`directory` store)."
    )
    artifact_max_bytes: int = Field(
        default=100 << 20, ge=1, description="Largest artifact kept; a larger file is skipped."
    )
    artifact_job_max_bytes: int = Field(
        default=1 << 30, ge=1, description="Most artifact bytes one job keeps."
    )
    artifact_scan_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often an agent looks for new files in a running "
        "step's JOB_ARTIFACTS folder.",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Finished jobs older than this many days are deleted by the worker (and "
        "`jobmonitor prune`); unset: kept until deleted.",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the worker applies RETENTION_DAYS."
    )

    @model_validator(mode="after")
    def _read_secret_files(self) -> Self:
        if self.database_url_file is not None:
            self.database_url = _secret_file(self, "database_url")
        if self.event_bus_url_file is not None:
            self.event_bus_url = _secret_file(self, "event_bus_url")
        if self.temporal_api_key_file is not None:
            self.temporal_api_key = SecretStr(_secret_file(self, "temporal_api_key"))
        return self


def _secret_file(settings: Settings, name: str) -> str:
    """The content of the file named by `<name>_file`, without its final newline."""
    variable = f"JOBMONITOR_{name.upper()}"
    if name in settings.model_fields_set:
        raise ValueError(f"set {variable} or {variable}_FILE, not both")
    path = getattr(settings, f"{name}_file")
    try:
        return str(path.read_text(encoding="utf-8").rstrip("\r\n"))
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ValueError(f"{variable}_FILE: cannot read {path}: {reason}") from None

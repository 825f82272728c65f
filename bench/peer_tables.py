"""PostGraphile's copy of the data: the schema `peer` in the bench database, holding copies of
the jobs, workflows, agents, steps, events and log lines (with their indexes) and the foreign
keys PostGraphile turns into relations, plus computed columns for the fields jobmonitor
derives (`name`, `durationSeconds`, `canCancel`, `canResend`), written in SQL from the same
rules so both servers answer the same values."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.engine import create_engine
from server.domain import rules
from server.domain.enums import JobStatus

from .common import say

SCHEMA = "peer"
TABLES = ("workflows", "agents", "jobs", "job_steps", "job_events", "log_lines")
FOREIGN_KEYS = (
    ("jobs", "workflow_id", "workflows", "id"),
    ("jobs", "agent_id", "agents", "id"),
    ("job_steps", "job_number", "jobs", "number"),
    ("job_events", "job_number", "jobs", "number"),
    ("log_lines", "job_number", "jobs", "number"),
)


def _statuses(statuses: frozenset[JobStatus]) -> str:
    return ", ".join(f"'{status.value}'" for status in sorted(statuses))


COMPUTED_COLUMNS = (
    f"""CREATE FUNCTION {SCHEMA}.jobs_name(job {SCHEMA}.jobs) RETURNS text AS $$
        SELECT workflow.slug || ' — ' || coalesce(job.ticket_key, 'queued')
        FROM {SCHEMA}.workflows workflow WHERE workflow.id = job.workflow_id
    $$ LANGUAGE sql STABLE""",
    f"""CREATE FUNCTION {SCHEMA}.jobs_duration_seconds(job {SCHEMA}.jobs) RETURNS float8 AS $$
        SELECT CASE WHEN job.started_at IS NULL THEN NULL ELSE greatest(
            extract(epoch FROM coalesce(job.completed_at, now()) - job.started_at), 0)::float8
        END
    $$ LANGUAGE sql STABLE""",
    f"""CREATE FUNCTION {SCHEMA}.jobs_can_cancel(job {SCHEMA}.jobs) RETURNS boolean AS $$
        SELECT job.status IN ({_statuses(rules.CANCELLABLE_STATUSES)})
    $$ LANGUAGE sql IMMUTABLE""",
    f"""CREATE FUNCTION {SCHEMA}.jobs_can_resend(job {SCHEMA}.jobs) RETURNS boolean AS $$
        SELECT job.status IN ({_statuses(rules.RESENDABLE_STATUSES)})
            AND job.resent_as_number IS NULL
    $$ LANGUAGE sql IMMUTABLE""",
)


async def prepare(database_url: str, *, key: str, log_lines: int) -> int:
    """Make the schema hold a copy of the current data, unless it already holds the copy made
    for `key` (the bench data's marker). Answers the detail job: the newest failed job, given
    `log_lines` log lines first (the seeder writes a handful per job) in both schemas."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            number = await _detail_job(connection, log_lines=log_lines)
            if await _marker(connection) == key:
                say(f"reusing PostGraphile's copy in schema {SCHEMA}")
                return number
            await _copy(connection)
            await connection.execute(text(f"CREATE TABLE {SCHEMA}.marker (key text)"))
            await connection.execute(
                text(f"INSERT INTO {SCHEMA}.marker (key) VALUES (:key)"), {"key": key}
            )
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as connection:
            for table in TABLES:
                await connection.execute(text(f"VACUUM ANALYZE {SCHEMA}.{table}"))
        return number
    finally:
        await engine.dispose()


async def _detail_job(connection: AsyncConnection, *, log_lines: int) -> int:
    number = int(
        await connection.scalar(
            text("SELECT max(number) FROM jobs WHERE status = 'FAILED' AND step_count > 1")
        )
    )
    held = int(
        await connection.scalar(
            text("SELECT count(*) FROM log_lines WHERE job_number = :number"), {"number": number}
        )
    )
    if held < log_lines:
        await connection.execute(
            text(
                "INSERT INTO log_lines (tenant_id, job_number, sequence, step, attempt, stream,"
                " message, at) SELECT tenant_id, number, line, 0, 1, 'STDOUT',"
                " 'line ' || line || ' of the build output', created_at"
                " + make_interval(secs => line)"
                " FROM jobs, generate_series(CAST(:first AS INTEGER), CAST(:last AS INTEGER))"
                " AS line WHERE number = :number"
            ),
            {"number": number, "first": 1000 + held, "last": 1000 + log_lines},
        )
    return number


async def _marker(connection: AsyncConnection) -> str | None:
    exists = await connection.scalar(text(f"SELECT to_regclass('{SCHEMA}.marker')"))
    if exists is None:
        return None
    value = await connection.scalar(text(f"SELECT key FROM {SCHEMA}.marker"))
    return str(value) if value is not None else None


async def _copy(connection: AsyncConnection) -> None:
    say(f"copying {', '.join(TABLES)} into schema {SCHEMA} for PostGraphile")
    await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    for table in TABLES:
        await connection.execute(
            text(f"CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
        )
        await connection.execute(text(f"INSERT INTO {SCHEMA}.{table} SELECT * FROM {table}"))
    for table, column, target, key in FOREIGN_KEYS:
        await connection.execute(
            text(
                f"ALTER TABLE {SCHEMA}.{table} ADD FOREIGN KEY ({column}) "
                f"REFERENCES {SCHEMA}.{target} ({key})"
            )
        )
    for statement in COMPUTED_COLUMNS:
        await connection.execute(text(statement))

"""Synthetic jobs written by the database itself (generate_series, or a recursive CTE on
SQLite), a million in seconds: `jobs` spread evenly over `days` up to HORIZON, 8 workflows,
statuses 60 % COMPLETED, 20 % FAILED, 10 % CANCELLED, 10 % RUNNING, durations up to an hour, a
cost on two jobs of three; with `details`, two steps, a status event and ten log lines each."""

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from server.db import migrate
from server.db.models import Workflow
from server.db.status_counts import rebuild_status_counts
from server.runtime import Runtime

from .common import HORIZON, TENANT, bench_settings, reset_database

WORKFLOWS = 8
LOG_LINES = 10

STATUS = (
    "CASE WHEN {i} % 10 < 6 THEN 'COMPLETED' WHEN {i} % 10 < 8 THEN 'FAILED' "
    "WHEN {i} % 10 = 8 THEN 'CANCELLED' ELSE 'RUNNING' END"
)
POSTGRES_ROWS = """
INSERT INTO jobs (tenant_id, workflow_id, status, created_at, started_at, completed_at,
                  cost_usd, input, step_count)
SELECT :tenant, (:first_workflow + i % {workflows}), status, created,
       created + make_interval(secs => i % 60),
       CASE WHEN status = 'RUNNING' THEN NULL
            ELSE created + make_interval(secs => i % 60 + (i * 7919) % 3600) END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 100) / 100.0 END, '{{}}', 0
FROM (SELECT i, {status} AS status,
             CAST(:horizon AS timestamptz) - make_interval(secs => i * :spacing) AS created
      FROM generate_series(1, CAST(:jobs AS bigint)) AS i) AS rows
"""
SQLITE_ROWS = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :jobs)
INSERT INTO jobs (tenant_id, workflow_id, status, created_at, started_at, completed_at,
                  cost_usd, input, step_count, source, agent_pinned, chain_depth, version)
SELECT :tenant, :first_workflow + i % {workflows}, {status},
       strftime('%Y-%m-%d %H:%M:%S', :horizon_epoch - i * :spacing, 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', :horizon_epoch - i * :spacing + i % 60, 'unixepoch')
         || '.000000',
       CASE WHEN i % 10 = 9 THEN NULL
            ELSE strftime('%Y-%m-%d %H:%M:%S',
                          :horizon_epoch - i * :spacing + i % 60 + (i * 7919) % 3600,
                          'unixepoch') || '.000000' END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 100) / 100.0 END, '{{}}', 0,
       'RUN_WORKFLOW', 0, 0, 1
FROM seq
"""


_NUMBERS = " UNION ALL ".join(f"SELECT {k} AS k" for k in range(1, LOG_LINES + 1))
DETAILS = (
    'INSERT INTO job_steps (tenant_id, job_number, "index", name, status, attempt) '
    "SELECT tenant_id, number, k - 1, 'step', 'COMPLETED', 1 FROM jobs, "
    "(SELECT 1 AS k UNION ALL SELECT 2) AS steps",
    "INSERT INTO job_events (tenant_id, job_number, to_status, at, actor) "
    "SELECT tenant_id, number, status, created_at, 'bench' FROM jobs",
    "INSERT INTO log_lines (tenant_id, job_number, sequence, step, attempt, stream, message, at) "
    f"SELECT tenant_id, number, k, k % 2, 1, 'STDOUT', 'output line', created_at FROM jobs, "
    f"({_NUMBERS}) AS lines",
)


async def seed_synthetic(database_url: str, *, jobs: int, days: int, details: bool = False) -> None:
    """A fresh database holding the synthetic jobs."""
    await reset_database(database_url)
    runtime = Runtime.from_settings(bench_settings(database_url))
    try:
        await migrate.upgrade(runtime.engine)
        async with runtime.session_factory() as session, session.begin():
            rows = [
                Workflow(
                    tenant_id=TENANT,
                    slug=f"flow-{n}",
                    display_name=f"Flow {n}",
                    aliases=[],
                    created_at=HORIZON - timedelta(days=days),
                )
                for n in range(WORKFLOWS)
            ]
            session.add_all(rows)
            await session.flush()
            first = min(row.id for row in rows)
        spacing = days * 86_400 / jobs
        postgres = runtime.engine.dialect.name == "postgresql"
        statement = (POSTGRES_ROWS if postgres else SQLITE_ROWS).format(
            workflows=WORKFLOWS, status=STATUS.format(i="i")
        )
        parameters: dict[str, Any] = {
            "tenant": TENANT,
            "first_workflow": first,
            "jobs": jobs,
            "spacing": spacing,
        }
        if postgres:
            parameters["horizon"] = HORIZON
        else:
            parameters["horizon_epoch"] = int(HORIZON.timestamp())
        async with runtime.engine.begin() as connection:
            await connection.execute(text(statement), parameters)
            if details:
                for owned in DETAILS:
                    await connection.execute(text(owned))
        async with runtime.session_factory() as session, session.begin():
            await rebuild_status_counts(session, TENANT)
        if postgres:
            async with runtime.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
    finally:
        await runtime.close()

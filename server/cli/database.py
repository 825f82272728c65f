"""`jobmonitor migrate` and `jobmonitor seed`: the database's schema and demo data."""

from typing import Annotated

import typer

from server.runtime import Runtime
from server.seed import seed_database

from .process import with_runtime


def migrate() -> None:
    """Apply the database migrations (SQLite or PostgreSQL, from JOBMONITOR_DATABASE_URL)."""

    async def done(_runtime: Runtime) -> None:
        return None

    with_runtime(done)
    typer.echo("database is up to date")


def seed(
    jobs: Annotated[int, typer.Option(min=0, help="How many jobs to add.")] = 2000,
    agents: Annotated[int, typer.Option(min=1, help="How many agents.")] = 8,
    workflows: Annotated[int, typer.Option(min=1, help="How many workflows.")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 1,
    tenant: Annotated[str | None, typer.Option(help="Tenant to seed (default: default).")] = None,
) -> None:
    """Fill the database with realistic, deterministic demo data."""
    report = with_runtime(
        lambda runtime: seed_database(
            runtime.session_factory,
            tenant=tenant or runtime.settings.default_tenant,
            jobs=jobs,
            agents=agents,
            workflows=workflows,
            seed=seed,
        )
    )
    typer.echo(
        f"seeded tenant {report.tenant!r}: {report.jobs} jobs, {report.steps} steps, "
        f"{report.events} events, {report.log_lines} log lines, {report.workflows} workflows, "
        f"{report.agents} agents in {report.seconds:.1f} s"
    )

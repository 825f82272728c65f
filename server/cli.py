"""The `jobmonitor` command line."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn

from resolvers.schema import export_sdl
from server.app import create_app
from server.db import migrate as migrations
from server.runtime import Runtime
from server.seed import seed_database
from server.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="jobmonitor: watch and steer workflow jobs that run on a fleet of agents.",
    no_args_is_help=True,
    add_completion=False,
)


def _with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def run() -> T:
        runtime = Runtime.from_settings(Settings())
        try:
            await migrations.upgrade(runtime.engine)
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(run())


@app.command()
def migrate() -> None:
    """Apply the database migrations (SQLite or PostgreSQL, from JOBMONITOR_DATABASE_URL)."""

    async def done(_runtime: Runtime) -> None:
        return None

    _with_runtime(done)
    typer.echo("database is up to date")


@app.command()
def seed(
    jobs: Annotated[int, typer.Option(min=0, help="How many jobs to add.")] = 2000,
    agents: Annotated[int, typer.Option(min=1, help="How many agents.")] = 8,
    workflows: Annotated[int, typer.Option(min=1, help="How many workflows.")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 1,
    tenant: Annotated[str | None, typer.Option(help="Tenant to seed (default: default).")] = None,
) -> None:
    """Fill the database with realistic, deterministic demo data."""
    report = _with_runtime(
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the GraphQL API at /graphql (GraphiQL in a browser) and /healthz."""
    uvicorn.run(create_app(Settings()), host=host, port=port, ws_per_message_deflate=False)


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql is this output."""
    typer.echo(export_sdl(), nl=False)


def main() -> None:
    app()

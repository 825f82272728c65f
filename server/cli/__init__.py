"""The `jobmonitor` command line."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn

from resolvers.schema import export_sdl
from server.app import create_app
from server.auth import Role
from server.auth.exposure import unsafe_exposure
from server.auth.store import create_token, revoke_token
from server.cli import workers as temporal_commands
from server.cli.reconcile import reconcile_command
from server.cli.workflows import workflows
from server.db import migrate as migrations
from server.domain.errors import DomainError
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
    allow_unauthenticated: Annotated[
        bool, typer.Option(help="Serve with JOBMONITOR_AUTH=disabled beyond loopback.")
    ] = False,
) -> None:
    """Serve the GraphQL API at /graphql (GraphiQL in a browser) and /healthz."""
    settings = Settings()
    refusal = unsafe_exposure(settings, host)
    if refusal is not None and not allow_unauthenticated:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        ws_per_message_deflate=False,
        ws_max_size=settings.max_body_bytes,
    )


tokens = typer.Typer(help="API tokens, sent as `Authorization: Bearer <token>`.")
app.add_typer(tokens, name="tokens", no_args_is_help=True)


@tokens.command("create")
def create_token_command(
    role: Annotated[Role, typer.Option(help="viewer reads; operator also acts; admin all.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
    name: Annotated[str | None, typer.Option(help="Recorded as the actor of its actions.")] = None,
) -> None:
    """Create a token. It is printed alone on the last line, and only this once."""
    try:
        issued = _with_runtime(
            lambda runtime: create_token(
                runtime.session_factory,
                tenant=tenant or runtime.settings.default_tenant,
                role=role,
                name=name,
            )
        )
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(2) from error
    typer.echo(
        f"token {issued.id} ({issued.name!r}, {issued.role}) for tenant {issued.tenant!r}; "
        "store it now, it is not shown again:"
    )
    typer.echo(issued.token)


@tokens.command("revoke")
def revoke_token_command(
    token_id: Annotated[int, typer.Argument(help="The id `tokens create` printed.")],
) -> None:
    """Revoke a token; servers refuse it within JOBMONITOR_TOKEN_CACHE_SECONDS."""
    try:
        _with_runtime(lambda runtime: revoke_token(runtime.session_factory, token_id=token_id))
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from error
    typer.echo(f"token {token_id} revoked")


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql is this output."""
    typer.echo(export_sdl(), nl=False)


app.add_typer(workflows, name="workflows", no_args_is_help=True)
app.command()(temporal_commands.worker)
app.command()(temporal_commands.agent)
app.command()(temporal_commands.dev)
app.command("reconcile")(reconcile_command)


def main() -> None:
    app()

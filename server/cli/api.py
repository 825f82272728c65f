"""`jobmonitor serve` and `jobmonitor export-schema`: the API and its schema."""

import asyncio
from typing import Annotated

import typer

from resolvers.schema import export_sdl
from server.app import create_app
from server.auth.exposure import unsafe_exposure
from server.observability.logs import configure_logging
from server.settings import Settings
from server.web.serving import serve_api

from .process import preflight


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_unauthenticated: Annotated[
        bool, typer.Option(help="Serve with JOBMONITOR_AUTH=disabled beyond loopback.")
    ] = False,
) -> None:
    """Serve the GraphQL API at /graphql (GraphiQL in a browser), /healthz and /readyz."""
    settings = Settings()
    if allow_unauthenticated:
        settings = settings.model_copy(update={"allow_unauthenticated": True})
    refusal = unsafe_exposure(settings, host)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    configure_logging(settings)
    asyncio.run(
        preflight(settings, migrate_schema=settings.auto_migrate, identity="jobmonitor-api")
    )
    serve_api(create_app(settings), host=host, port=port, settings=settings)


def export_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql is this output."""
    typer.echo(export_sdl(), nl=False)

"""`jobmonitor serve` and `jobmonitor export-schema`: the API and its schema."""

import asyncio
import socket
from functools import partial
from typing import Annotated

import typer

from resolvers.schema import export_sdl
from server.app import create_app
from server.auth.exposure import unsafe_exposure
from server.observability.logs import configure_logging
from server.settings import Settings
from server.web.serving import serve_api
from server.web.workers import supervise, workers_refusal

from .process import preflight


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_unauthenticated: Annotated[
        bool, typer.Option(help="Serve with JOBMONITOR_AUTH=disabled beyond loopback.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Processes sharing the port (PostgreSQL only); JOBMONITOR_WORKERS."
        ),
    ] = None,
) -> None:
    """Serve the GraphQL API at /graphql (GraphiQL in a browser), /healthz and /readyz."""
    settings = Settings()
    if allow_unauthenticated:
        settings = settings.model_copy(update={"allow_unauthenticated": True})
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    refusal = unsafe_exposure(settings, host) or workers_refusal(settings, settings.workers)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    configure_logging(settings)
    asyncio.run(
        preflight(settings, migrate_schema=settings.auto_migrate, identity="jobmonitor-api")
    )
    if settings.workers == 1:
        serve_api(create_app(settings), host=host, port=port, settings=settings)
        return
    child = partial(_serve_worker, host=host, port=port, settings=settings)
    raise typer.Exit(supervise(child, host=host, port=port, workers=settings.workers))


def _serve_worker(listener: socket.socket, *, host: str, port: int, settings: Settings) -> None:
    """One of `serve --workers N`: the whole API on the socket the parent listens on."""
    configure_logging(settings)
    serve_api(create_app(settings), host=host, port=port, settings=settings, sockets=[listener])


def export_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql is this output."""
    typer.echo(export_sdl(), nl=False)

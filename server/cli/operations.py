"""`jobmonitor operations register FILE...`: the operations a server with
JOBMONITOR_OPERATIONS=registered runs (see docs/http-api.md)."""

from pathlib import Path
from typing import Annotated

import typer

from resolvers.schema import build_schema
from server.operations.manifest import OperationFileError, read_operations

from .process import with_runtime

operations = typer.Typer(help="Persisted operations (see docs/http-api.md).")


@operations.command("register")
def register_operations(
    files: Annotated[
        list[Path],
        typer.Argument(help="GraphQL documents, or Apollo / Relay persisted-operation manifests."),
    ],
) -> None:
    """Register operations, the only ones a server with JOBMONITOR_OPERATIONS=registered runs;
    nothing is registered if any of them does not parse or validate."""
    try:
        entries = read_operations(files, build_schema()._schema)
    except OperationFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    count = with_runtime(
        lambda runtime: runtime.operations.register((entry.id, entry.document) for entry in entries)
    )
    for entry in entries:
        typer.echo(f"registered {entry.id} ({entry.source})")
    typer.echo(f"{count} operation(s) registered")

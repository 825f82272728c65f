"""`jobmonitor workflows load PATH...`."""

from pathlib import Path
from typing import Annotated

import typer

from server.workflows.definition import DefinitionError
from server.workflows.files import WorkflowFileError, read_workflows
from server.workflows.store import save_workflows

from .process import with_runtime

workflows = typer.Typer(help="Workflow definitions (YAML files; see docs/workflows.md).")


@workflows.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Workflow files, or folders of them.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
) -> None:
    """Load (or update) workflows from YAML files; nothing is stored if any file is invalid."""
    try:
        definitions = read_workflows(paths)
    except WorkflowFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    try:
        with_runtime(
            lambda runtime: save_workflows(
                runtime.session_factory,
                tenant=tenant or runtime.settings.default_tenant,
                definitions=definitions,
            )
        )
    except DefinitionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for definition in definitions:
        typer.echo(f"loaded {definition.slug} ({len(definition.steps)} steps)")

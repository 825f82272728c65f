"""`jobmonitor automations load PATH...`."""

from pathlib import Path
from typing import Annotated

import typer

from server.domain.errors import NotFound
from server.workflows.automation_files import read_automations
from server.workflows.files import WorkflowFileError

from .process import with_runtime

automations = typer.Typer(help="Webhook automations (YAML files; see docs/automations.md).")


@automations.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Automation files, or folders of them.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
) -> None:
    """Load (or update) automations from YAML files; nothing is stored if any is invalid."""
    try:
        definitions = read_automations(paths)
        with_runtime(
            lambda runtime: runtime.automations.save(
                tenant=tenant or runtime.settings.default_tenant, definitions=definitions
            )
        )
    except (WorkflowFileError, NotFound) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for definition in definitions:
        typer.echo(f"loaded {definition.name} ({definition.source} -> {definition.workflow})")

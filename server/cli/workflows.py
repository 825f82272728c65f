"""`jobmonitor workflows load PATH...`."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from server.process import process_runtime
from server.settings import Settings
from server.workflows.files import WorkflowFileError, read_workflows
from server.workflows.store import save_workflows

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
    settings = Settings()

    async def store() -> None:
        async with process_runtime(settings) as runtime:
            await save_workflows(
                runtime.session_factory,
                tenant=tenant or settings.default_tenant,
                definitions=definitions,
            )

    asyncio.run(store())
    for definition in definitions:
        typer.echo(f"loaded {definition.slug} ({len(definition.steps)} steps)")

"""`jobmonitor reconcile [--tenant T] [--repair]`."""

import asyncio
from typing import Annotated

import typer

from server.process import process_runtime
from server.settings import Settings
from server.timeline.gateway import TemporalUnreachable
from server.timeline.reconcile import Finding, TemporalNotConfigured, reconcile


def reconcile_command(
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
    repair: Annotated[
        bool,
        typer.Option(
            help="Record the orchestrator's end on jobs still open here whose workflow ended."
        ),
    ] = False,
) -> None:
    """List jobs whose status disagrees with their Temporal workflow's (exit 1 if any is left)."""
    settings = Settings()

    async def run() -> list[Finding]:
        async with process_runtime(settings) as runtime:
            return await reconcile(runtime, tenant=tenant or settings.default_tenant, repair=repair)

    try:
        findings = asyncio.run(run())
    except (TemporalNotConfigured, TemporalUnreachable) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    for finding in findings:
        typer.echo(finding.line())
    left = [finding for finding in findings if finding.outcome != "repaired"]
    typer.echo(f"{len(findings)} disagreement(s), {len(findings) - len(left)} repaired")
    if left:
        raise typer.Exit(1)

"""`jobmonitor reconcile [--tenant T] [--repair]`."""

from typing import Annotated

import typer

from server.timeline.gateway import TemporalUnreachable
from server.timeline.reconcile import TemporalNotConfigured, reconcile

from .process import with_runtime


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
    try:
        findings = with_runtime(
            lambda runtime: reconcile(
                session_factory=runtime.session_factory,
                sources=runtime.timeline,
                execution=runtime.execution,
                tenant=tenant or runtime.settings.default_tenant,
                repair=repair,
            )
        )
    except (TemporalNotConfigured, TemporalUnreachable) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    for finding in findings:
        typer.echo(finding.line())
    left = [finding for finding in findings if finding.outcome != "repaired"]
    typer.echo(f"{len(findings)} disagreement(s), {len(findings) - len(left)} repaired")
    if left:
        raise typer.Exit(1)

"""`jobmonitor reconcile [--tenant T] [--repair]`."""

from typing import Annotated

import typer

from server.domain.errors import OrchestratorUnavailable
from server.runtime import Runtime
from server.services.schedules import OneSidedSchedule
from server.settings import Settings
from server.temporal.client import TemporalNotAnswering, connect_checked
from server.timeline.gateway import TemporalUnreachable
from server.timeline.reconcile import Finding, TemporalNotConfigured, reconcile

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
    """List jobs whose status disagrees with their Temporal workflow's, and schedules that exist
    on one side only (exit 1 if any is left)."""
    settings = Settings()

    async def check_then_reconcile(
        runtime: Runtime,
    ) -> tuple[list[Finding], list[OneSidedSchedule]]:
        if settings.temporal_address is not None:
            # Settings that cannot work (files, handshake) stop here, naming the setting.
            await connect_checked(settings, identity="jobmonitor-reconcile")
        chosen = tenant or settings.default_tenant
        findings = await reconcile(
            session_factory=runtime.session_factory,
            sources=runtime.timeline,
            execution=runtime.execution,
            tenant=chosen,
            repair=repair,
        )
        return findings, await runtime.schedules.one_sided(tenant=chosen)

    try:
        findings, schedules = with_runtime(
            check_then_reconcile, settings, migrate_schema=settings.auto_migrate
        )
    except (
        TemporalNotConfigured,
        TemporalUnreachable,
        TemporalNotAnswering,
        OrchestratorUnavailable,
    ) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    for finding in findings:
        typer.echo(finding.line())
    for schedule in schedules:
        typer.echo(schedule.line())
    left = [finding for finding in findings if finding.outcome != "repaired"]
    typer.echo(f"{len(findings)} disagreement(s), {len(findings) - len(left)} repaired")
    typer.echo(f"{len(schedules)} schedule(s) on one side only")
    if left or schedules:
        raise typer.Exit(1)

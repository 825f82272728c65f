"""`jobmonitor prune [--older-than 90d] [--dry-run]`: the retention."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from server.domain.ages import parse_age
from server.domain.errors import InvalidArgument
from server.runtime import Runtime
from server.services.deletion import PruneReport
from server.settings import Settings

from .process import with_runtime

PRUNER = "prune"
"""The actor the audit entries of a prune name."""


def prune(
    older_than: Annotated[
        str | None,
        typer.Option(
            help="Age of the finished jobs to delete, e.g. 90d, 12h, 2w "
            "(default: JOBMONITOR_RETENTION_DAYS)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Count what would be deleted, per tenant; delete nothing.")
    ] = False,
) -> None:
    """Delete finished jobs (with their steps, events, logs and artifacts) that ended longer
    ago than the retention, in short batches; every tenant's."""
    settings = Settings()
    age = _age(older_than, settings)
    before = datetime.now(UTC) - age

    async def run(runtime: Runtime) -> PruneReport:
        return await runtime.deletion.prune(before=before, dry_run=dry_run, actor=PRUNER)

    report = with_runtime(run, settings, migrate_schema=settings.auto_migrate)
    verb = "would delete" if dry_run else "deleted"
    for tenant, count in sorted(report.per_tenant.items()):
        typer.echo(f"{tenant}: {verb} {count} job(s)")
    summary = f"{verb} {report.deleted} job(s) finished before {before.isoformat()}"
    if not dry_run:
        summary += (
            f" in {report.batches} batch(es), the longest "
            f"{report.longest_batch_seconds * 1000:.0f} ms"
        )
    typer.echo(summary)


def _age(older_than: str | None, settings: Settings) -> timedelta:
    if older_than is not None:
        try:
            return parse_age(older_than)
        except InvalidArgument as error:
            raise typer.BadParameter(error.message, param_hint="--older-than") from None
    if settings.retention_days is None:
        typer.echo(
            "error: nothing says how old is too old: give --older-than (e.g. 90d) or set "
            "JOBMONITOR_RETENTION_DAYS",
            err=True,
        )
        raise typer.Exit(2)
    return timedelta(days=settings.retention_days)

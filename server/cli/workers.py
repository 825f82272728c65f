"""`jobmonitor worker` and `jobmonitor agent`: the long-running Temporal processes."""

import asyncio
import socket
from datetime import timedelta
from typing import Annotated

import typer

from server.runtime import process_runtime
from server.temporal.agent import AgentIdentity
from server.temporal.client import connect_when_up
from server.web import readiness
from server.web.probe_server import serving_probes

from .process import run_until_stopped, temporal_settings


def worker(
    outbox: Annotated[
        bool, typer.Option(help="Also deliver the dispatch outbox (safe on several workers).")
    ] = True,
) -> None:
    """Run the job workflow and the control-plane activities, and deliver the dispatch outbox."""
    settings = temporal_settings()

    async def main(stop: asyncio.Event) -> None:
        async with process_runtime(settings, migrate_schema=settings.auto_migrate) as runtime:
            identity = f"jobmonitor-worker@{socket.gethostname()}"
            client = await connect_when_up(settings, identity=identity)
            probes = readiness.for_runtime(runtime, temporal=True, bus=False)
            async with (
                runtime.running_worker(client, outbox=outbox),
                serving_probes(probes, port=settings.probe_port),
            ):
                typer.echo(f"worker on task queue {settings.temporal_task_queue!r}")
                await stop.wait()
                probes.stopping()

    run_until_stopped(main, grace_seconds=settings.shutdown_grace_seconds)


def agent(
    name: Annotated[str, typer.Option(help="The agent's name (unique in the tenant).")],
    slots: Annotated[int, typer.Option(min=1, help="Jobs it runs at once.")] = 1,
    workflow: Annotated[
        list[str] | None,
        typer.Option(help="A workflow slug it runs (repeat for more; none means any)."),
    ] = None,
    hostname: Annotated[str | None, typer.Option(help="Shown in the UI.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
) -> None:
    """Run a reference agent: runs step commands in workspaces and streams their logs."""
    settings = temporal_settings()
    identity = AgentIdentity(
        tenant=tenant or settings.default_tenant,
        name=name,
        hostname=hostname or socket.gethostname(),
        base_task_queue=settings.temporal_task_queue,
        workspace_root=settings.workspace_root.resolve(),
        shutdown_grace=timedelta(seconds=settings.shutdown_grace_seconds),
        slots=slots,
        workflows=tuple(workflow or ()),
    )

    async def main(stop: asyncio.Event) -> None:
        async with process_runtime(settings, migrate_schema=settings.auto_migrate) as runtime:
            client = await connect_when_up(settings, identity=f"agent {name}")
            probes = readiness.for_runtime(runtime, temporal=True, bus=False)
            async with (
                runtime.running_agent(client, identity),
                serving_probes(probes, port=settings.probe_port),
            ):
                typer.echo(f"agent {name} ({slots} slots) on task queue {identity.task_queue!r}")
                await stop.wait()
                probes.stopping()

    run_until_stopped(main, grace_seconds=settings.shutdown_grace_seconds)

"""`jobmonitor worker` and `jobmonitor agent`: the long-running Temporal processes."""

import asyncio
import socket
from typing import Annotated

import typer

from server.runtime import process_runtime
from server.temporal.agent import AgentIdentity, running_agent
from server.temporal.client import connect_when_up

from .process import run_until_stopped, temporal_settings


def worker(
    outbox: Annotated[
        bool, typer.Option(help="Also deliver the dispatch outbox (safe on several workers).")
    ] = True,
) -> None:
    """Run the job workflow and the control-plane activities, and deliver the dispatch outbox."""
    settings = temporal_settings()

    async def main(stop: asyncio.Event) -> None:
        async with process_runtime(settings) as runtime:
            identity = f"jobmonitor-worker@{socket.gethostname()}"
            client = await connect_when_up(settings, identity=identity)
            async with runtime.running_worker(client, outbox=outbox):
                typer.echo(f"worker on task queue {settings.temporal_task_queue!r}")
                await stop.wait()

    run_until_stopped(main)


def agent(
    name: Annotated[str, typer.Option(help="The agent's name (unique in the tenant).")],
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
    )

    async def main(stop: asyncio.Event) -> None:
        async with process_runtime(settings) as runtime:
            client = await connect_when_up(settings, identity=f"agent {name}")
            async with running_agent(client, runtime.execution, identity):
                typer.echo(f"agent {name} on task queue {identity.task_queue!r}")
                await stop.wait()

    run_until_stopped(main)

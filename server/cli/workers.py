"""`jobmonitor worker`, `jobmonitor agent` and `jobmonitor dev`."""

import asyncio
import logging
import socket
from pathlib import Path
from typing import Annotated

import typer

from server.auth.exposure import unsafe_exposure
from server.cli.dev import EXAMPLES, dev_settings, run_dev
from server.process import process_runtime
from server.services.execution import ExecutionService
from server.settings import Settings
from server.temporal.agent import AgentIdentity, running_agent
from server.temporal.lifecycle import connect_when_up, run_until_stopped
from server.temporal.worker import running_worker


def _settings() -> Settings:
    settings = Settings()
    if settings.temporal_address is None:
        typer.echo("error: set JOBMONITOR_TEMPORAL_ADDRESS (host:port of Temporal)", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return settings


def worker(
    outbox: Annotated[
        bool, typer.Option(help="Also deliver the dispatch outbox (safe on several workers).")
    ] = True,
) -> None:
    """Run the job workflow and the control-plane activities, and deliver the dispatch outbox."""
    settings = _settings()

    async def main(stop: asyncio.Event) -> None:
        async with process_runtime(settings) as runtime:
            identity = f"jobmonitor-worker@{socket.gethostname()}"
            client = await connect_when_up(settings, identity=identity)
            async with running_worker(client, runtime, outbox=outbox):
                typer.echo(f"worker on task queue {settings.temporal_task_queue!r}")
                await stop.wait()

    run_until_stopped(main)


def agent(
    name: Annotated[str, typer.Option(help="The agent's name (unique in the tenant).")],
    hostname: Annotated[str | None, typer.Option(help="Shown in the UI.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
) -> None:
    """Run a reference agent: runs step commands in workspaces and streams their logs."""
    settings = _settings()
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
            execution = ExecutionService(runtime.session_factory, runtime.bus)
            async with running_agent(client, execution, identity):
                typer.echo(f"agent {name} on task queue {identity.task_queue!r}")
                await stop.wait()

    run_until_stopped(main)


def dev(
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the API listens on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Keep dispatching sample jobs.")] = False,
    workflows: Annotated[
        list[Path] | None, typer.Option(help="Workflow files or folders (default: the examples).")
    ] = None,
) -> None:
    """Everything on one machine: database, Temporal, worker, an agent, the API. Ctrl-C stops."""
    settings = dev_settings()
    refusal = unsafe_exposure(settings, host)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def main(stop: asyncio.Event) -> None:
        await run_dev(
            settings, host=host, port=port, demo=demo, workflows=workflows or [EXAMPLES], stop=stop
        )

    run_until_stopped(main)

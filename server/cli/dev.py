"""`jobmonitor dev`: the whole system in one process tree, for one machine.

SQLite, a Temporal dev server with its web UI (unless JOBMONITOR_TEMPORAL_ADDRESS names one),
the control-plane worker, one local agent, the example workflows and the API with GraphiQL.
Ctrl-C stops it all.
"""

import asyncio
import logging
import socket
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from server.app import create_app
from server.auth.exposure import unsafe_exposure
from server.observability.logs import configure_logging
from server.runtime import Runtime, process_runtime
from server.settings import AuthMode, Settings
from server.shutdown import arm_hard_stop
from server.temporal.agent import AgentIdentity
from server.temporal.client import connect_checked
from server.temporal.dev_server import LOOPBACK, dev_server, preferred_port
from server.web.heap import HeapKeeper
from server.web.serving import EmbeddedServer, ServerFailed, uvicorn_options
from server.workflows.store import load_workflow_files

from .demo import running_demo
from .process import run_until_stopped

log = logging.getLogger(__name__)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workflows"
TEMPORAL_DB = Path("jobmonitor-temporal.db")
DEFAULT_TEMPORAL_PORT = 7233
DEFAULT_TEMPORAL_UI_PORT = 8233
LOCAL_AGENT = "local-agent"
LOCAL_AGENT_SLOTS = 4
"""Jobs the local agent runs at once: a job waiting for approval holds its slot, so with one
the rest of the demo would queue behind it."""


def dev(
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the API listens on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Keep dispatching sample jobs.")] = False,
    workflows: Annotated[
        list[Path] | None, typer.Option(help="Workflow files or folders (default: the examples).")
    ] = None,
    temporal_port: Annotated[
        int, typer.Option(help="Port of the Temporal dev server (another one if it is taken).")
    ] = DEFAULT_TEMPORAL_PORT,
    temporal_ui_port: Annotated[
        int, typer.Option(help="Port of Temporal's web UI (another one if it is taken).")
    ] = DEFAULT_TEMPORAL_UI_PORT,
    agent_slots: Annotated[
        int, typer.Option(min=1, help="Jobs the local agent runs at once.")
    ] = LOCAL_AGENT_SLOTS,
) -> None:
    """Everything on one machine: database, Temporal, worker, an agent, the API. Ctrl-C stops."""
    settings = dev_settings()
    refusal = unsafe_exposure(settings, host)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    configure_logging(settings)

    async def main(stop: asyncio.Event) -> None:
        await run_dev(
            settings,
            host=host,
            port=port,
            temporal_ports=(temporal_port, temporal_ui_port),
            demo=demo,
            workflows=workflows or [EXAMPLES],
            agent_slots=agent_slots,
            stop=stop,
        )

    run_until_stopped(main, grace_seconds=settings.shutdown_grace_seconds)


DEV_DEFAULTS = {
    "auth": AuthMode.DISABLED,
    "graphiql": True,
    "introspection": True,
    "api_docs": True,
}
"""What `dev` changes from the settings' defaults, unless the environment sets them: auth off
(the API listens on loopback unless --host says otherwise, and then auth is checked), the
browser tools on."""


def dev_settings() -> Settings:
    """The environment's settings, with DEV_DEFAULTS for whatever it leaves unset."""
    settings = Settings()
    unset = {
        name: value for name, value in DEV_DEFAULTS.items() if name not in settings.model_fields_set
    }
    return settings.model_copy(update=unset)


async def run_dev(
    settings: Settings,
    *,
    host: str,
    port: int,
    temporal_ports: tuple[int, int],
    demo: bool,
    workflows: list[Path],
    agent_slots: int = LOCAL_AGENT_SLOTS,
    stop: asyncio.Event,
) -> None:
    async with AsyncExitStack() as stack:
        if settings.temporal_address is None:
            settings = await _with_dev_temporal(stack, settings, *temporal_ports)
        runtime = await stack.enter_async_context(process_runtime(settings, migrate_schema=True))
        tenant = settings.default_tenant
        loaded = await load_workflow_files(runtime.session_factory, tenant=tenant, paths=workflows)
        client = await connect_checked(settings, identity="jobmonitor-dev")
        await stack.enter_async_context(runtime.running_worker(client))
        identity = AgentIdentity(
            tenant=tenant,
            name=LOCAL_AGENT,
            hostname=socket.gethostname(),
            base_task_queue=settings.temporal_task_queue,
            workspace_root=settings.workspace_root.resolve(),
            slots=agent_slots,
        )
        await stack.enter_async_context(runtime.running_agent(client, identity))
        if demo:
            await stack.enter_async_context(running_demo(runtime, tenant))
        log.info("Temporal at %s; %d workflows loaded", settings.temporal_address, len(loaded))
        log.info("GraphiQL at http://%s:%d/graphql", host, port)
        if settings.temporal_ui_url is not None:
            log.info("Temporal UI at %s", settings.temporal_ui_url)
        await _serve_api(runtime, host=host, port=port, stop=stop, heap=HeapKeeper())


async def _with_dev_temporal(
    stack: AsyncExitStack, settings: Settings, port: int, ui_port: int
) -> Settings:
    """Start a Temporal dev server with its web UI, both on loopback, for as long as `stack`;
    the settings that point at them. The ports asked for when they are free (by default
    Temporal's usual ones, so that its CLI finds the server and its UI is where its docs say),
    others otherwise."""
    ui_port = preferred_port(ui_port)
    address = await stack.enter_async_context(
        dev_server(port=preferred_port(port), db_file=TEMPORAL_DB, ui_port=ui_port)
    )
    return settings.model_copy(
        update={"temporal_address": address, "temporal_ui_url": f"http://{LOOPBACK}:{ui_port}"}
    )


async def _serve_api(
    runtime: Runtime,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    heap: HeapKeeper | None = None,
) -> None:
    """Serve until `stop` is set (Ctrl-C, SIGTERM) or the server ends. However it ends, what
    follows (the agent, the worker, Temporal) gets the grace to wind down, then the process
    exits whatever it still waits on; a server that could not start exits with an error."""
    app = create_app(runtime=runtime)
    config = uvicorn.Config(app, host=host, port=port, **uvicorn_options(runtime.settings))
    server = EmbeddedServer(config, app=app, heap=heap)
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        arm_hard_stop(runtime.settings.shutdown_grace_seconds)
        server.should_exit = True
        stopping.cancel()
    try:
        await serving
    except ServerFailed as failed:
        log.error("%s", failed)
        raise typer.Exit(1) from failed

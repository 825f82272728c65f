"""The ASGI application: the Jobs page at /, GraphQL over HTTP at /graphql, GraphiQL in a
browser, /healthz and /readyz, webhooks in at /hooks/{source}, downloads at
/jobs/{number}/logs and /artifacts/{id}."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from resolvers.schema import build_schema
from server.auth.gate import Gate
from server.observability.tracing import start_tracing, stop_tracing
from server.runtime import Runtime
from server.settings import AuthMode, Settings
from server.web import playground, readiness
from server.web.artifact_download import artifact_routes
from server.web.context import request_context
from server.web.hardening import harden
from server.web.hooks import hook_routes
from server.web.log_export import log_export_routes
from server.web.metrics import mount_metrics
from server.web.probes import probe_routes
from server.web.router import JobmonitorRouter
from server.web.ui import ui_routes
from server.web.websocket.endpoint import mount_live


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API. Given a runtime (tests, embedding), it uses it and leaves closing it to the caller;
    otherwise it builds one from the settings when it starts (the schema was checked before,
    see `server.cli.process.preflight`), starts listening to the event bus, and closes it all when
    it stops."""
    settings = runtime.settings if runtime is not None else settings or Settings()

    def use(app: FastAPI, runtime: Runtime) -> None:
        app.state.runtime = runtime
        app.state.gate = Gate.over(runtime.settings, runtime.session_factory, runtime.bus)
        app.state.readiness = readiness.for_runtime(runtime, temporal=True, bus=True)
        start_tracing(runtime.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            use(app, runtime)
            try:
                yield
            finally:
                stop_tracing()
                await app.state.gate.close()
            return
        owned = Runtime.from_settings(settings)
        use(app, owned)
        listening = asyncio.create_task(owned.live.start(), name="live-start")
        try:
            yield
        finally:
            listening.cancel()
            with suppress(asyncio.CancelledError):
                await listening
            stop_tracing()
            await app.state.gate.close()
            await owned.close()

    docs = settings.api_docs
    app = FastAPI(
        title="jobmonitor",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    harden(app, settings)
    mount_live(app, build_schema(), settings)
    graphql = JobmonitorRouter(
        build_schema(),
        context_getter=request_context,
        ide_page=playground.page(auth=settings.auth is AuthMode.ENABLED)
        if settings.graphiql
        else None,
        timeout=settings.execution_timeout_seconds,
    )
    app.include_router(graphql, prefix="/graphql")
    if settings.graphiql:
        app.include_router(playground.asset_router())
    if settings.metrics_token is not None:
        mount_metrics(app, settings.metrics_token.get_secret_value())
    app.include_router(probe_routes())
    app.include_router(hook_routes(settings))
    app.include_router(log_export_routes())
    app.include_router(artifact_routes())
    app.include_router(ui_routes(auth=settings.auth is AuthMode.ENABLED))
    return app

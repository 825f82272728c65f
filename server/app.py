"""The ASGI application: GraphQL over HTTP at /graphql, GraphiQL in a browser, /healthz and
/readyz."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from resolvers.schema import build_schema
from server.auth.gate import Gate
from server.runtime import Runtime
from server.settings import Settings
from server.web import readiness
from server.web.context import request_context
from server.web.hardening import harden
from server.web.probes import probe_routes
from server.web.router import JobmonitorRouter
from server.web.websocket.endpoint import mount_live


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API. Given a runtime (tests, embedding), it uses it and leaves closing it to the caller;
    otherwise it builds one from the settings when it starts (the schema was checked before,
    see `server.cli.process.preflight`), starts listening to the event bus, and closes it all when
    it stops."""
    settings = runtime.settings if runtime is not None else settings or Settings()

    def use(app: FastAPI, runtime: Runtime) -> None:
        app.state.runtime = runtime
        app.state.gate = Gate.over(runtime.settings, runtime.session_factory)
        app.state.readiness = readiness.for_runtime(runtime, temporal=True, bus=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            use(app, runtime)
            yield
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
            await owned.close()

    app = FastAPI(title="jobmonitor", lifespan=lifespan)
    harden(app, settings)
    mount_live(app, build_schema(), settings)
    graphql = JobmonitorRouter(
        build_schema(),
        context_getter=request_context,
        graphql_ide="graphiql" if settings.graphiql else None,
        timeout=settings.execution_timeout_seconds,
    )
    app.include_router(graphql, prefix="/graphql")
    app.include_router(probe_routes())
    return app

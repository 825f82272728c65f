"""The ASGI application: GraphQL over HTTP at /graphql, GraphiQL in a browser, /healthz."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from resolvers.schema import build_schema
from server.auth.gate import Gate
from server.db import migrate
from server.runtime import Runtime
from server.settings import Settings
from server.web.context import request_context
from server.web.hardening import harden
from server.web.router import JobmonitorRouter
from server.web.websocket.endpoint import mount_live


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API. Given a runtime (tests, embedding), it uses it and leaves closing it to the caller;
    otherwise it builds one from the settings when it starts and closes it when it stops."""
    settings = runtime.settings if runtime is not None else settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            app.state.gate = Gate.over(runtime.settings, runtime.session_factory)
            yield
            return
        owned = Runtime.from_settings(settings)
        await migrate.upgrade(owned.engine)
        app.state.runtime = owned
        app.state.gate = Gate.over(owned.settings, owned.session_factory)
        try:
            yield
        finally:
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

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

"""The ASGI application: GraphQL over HTTP at /graphql, GraphiQL in a browser, /healthz."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from strawberry.fastapi import GraphQLRouter

from resolvers.context import Context
from resolvers.schema import build_schema
from server.db import migrate
from server.runtime import Runtime
from server.settings import Settings


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API. Given a runtime (tests, embedding), it uses it and leaves closing it to the caller;
    otherwise it builds one from the settings when it starts and closes it when it stops."""
    settings = runtime.settings if runtime is not None else settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            yield
            return
        owned = Runtime.from_settings(settings)
        await migrate.upgrade(owned.engine)
        app.state.runtime = owned
        try:
            yield
        finally:
            await owned.close()

    async def context(request: Request) -> Context:
        runtime: Runtime = request.app.state.runtime
        return Context.for_tenant(runtime, runtime.settings.default_tenant)

    app = FastAPI(title="jobmonitor", lifespan=lifespan)
    graphql = GraphQLRouter[Context, None](
        build_schema(),
        context_getter=context,
        graphql_ide="graphiql" if settings.graphiql else None,
    )
    app.include_router(graphql, prefix="/graphql")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

"""The bench server: the real app (create_app with a runtime) plus one plain JSON route,
/bench/jobs-page, that reads and returns the Jobs page without GraphQL. Started by
bench.common.served; on its own: python -m bench.http_server --database-url URL --port N."""

import argparse

import uvicorn
import uvloop
from fastapi import FastAPI, Request, Response

from server.app import create_app
from server.domain.enums import JobStatus
from server.observability.logs import configure_logging, uvicorn_log_config
from server.runtime import Runtime

from .common import TENANT, bench_settings, check_loopback
from .plain_page import page_filter, plain_page_bytes


def build_app(runtime: Runtime) -> FastAPI:
    app = create_app(runtime=runtime)

    @app.get("/bench/jobs-page")
    async def jobs_page(
        request: Request,
        after: str | None = None,
        status: JobStatus | None = None,
        search: str | None = None,
    ) -> Response:
        session_factory = request.app.state.runtime.session_factory
        body = await plain_page_bytes(
            session_factory,
            tenant=TENANT,
            job_filter=page_filter(status, search),
            after=after,
        )
        return Response(content=body, media_type="application/json")

    return app


async def serve(database_url: str, port: int, *, access_log: bool) -> None:
    settings = bench_settings(database_url)
    configure_logging(settings)
    runtime = Runtime.from_settings(settings)
    config = uvicorn.Config(
        build_app(runtime),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        access_log=access_log,
        log_level="info" if access_log else "warning",
        log_config=uvicorn_log_config(settings),
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-log", action="store_true", help="log every request")
    arguments = parser.parse_args()
    check_loopback(arguments.database_url)
    uvloop.run(serve(arguments.database_url, arguments.port, access_log=arguments.access_log))


if __name__ == "__main__":
    main()

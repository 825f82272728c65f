"""jobStats at a million jobs: the dashboard's 30-day query by DAY (goal: under 100 ms on
PostgreSQL), against the baseline of counting the same interval's jobs (the least any answer
must read), in-process and over GraphQL (ASGI), on both backends.

The jobs are synthetic rows (bench/synthetic.py): `--jobs` spread evenly over `--days` up to
2026-11-01.

    .venv/bin/python -m bench.job_stats                         # 1 000 000 jobs over 400 days
    .venv/bin/python -m bench.job_stats --days 60 --runs 10     # denser: 500 000 in 30 days
"""

import argparse
import asyncio
from datetime import timedelta

import uvloop
from sqlalchemy import func, select

from dataloaders.lists import ListReader
from server.app import create_app
from server.db.models import Job
from server.domain.filters import JobFilter
from server.domain.stats import StatsBucket, StatsWindow
from server.runtime import Runtime

from .common import (
    DATA_DIR,
    HORIZON,
    POSTGRES_SERVER,
    TENANT,
    Budget,
    bench_settings,
    checked_json,
    drop_postgres_database,
    interleave_async,
    over_asgi,
    report,
    say,
)
from .synthetic import seed_synthetic

QUERY = """
query($from: DateTime!, $to: DateTime!) {
  jobStats(from: $from, to: $to, bucket: DAY) {
    buckets { start counts { all completed failed cancelled running } }
    workflows { workflow { slug } total failed failureRate durationP50Seconds
                durationP95Seconds costUsd }
  }
}
"""


async def measure(database_url: str, budget: Budget) -> dict[str, list[float]]:
    runtime = Runtime.from_settings(bench_settings(database_url))
    window = StatsWindow.of(HORIZON - timedelta(days=30), HORIZON, StatsBucket.DAY)
    try:
        async with over_asgi(create_app(runtime=runtime)) as http:

            async def count() -> None:
                async with runtime.read_session_factory() as session:
                    await session.scalar(
                        select(func.count())
                        .select_from(Job)
                        .where(
                            Job.tenant_id == TENANT,
                            Job.created_at >= window.start,
                            Job.created_at < window.end,
                        )
                    )

            async def read() -> None:
                lists = ListReader(
                    runtime.read_session_factory,
                    tenant=TENANT,
                    exact_total_limit=runtime.settings.exact_total_limit,
                )
                await lists.job_stats(JobFilter(), window)

            async def graphql() -> None:
                variables = {"from": window.start.isoformat(), "to": window.end.isoformat()}
                response = await http.post(
                    "/graphql", json={"query": QUERY, "variables": variables}
                )
                checked_json(response)

            async with runtime.read_session_factory() as session:
                inside = await session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.tenant_id == TENANT, Job.created_at >= window.start)
                )
            say(f"  {inside:,} jobs in the 30 days")
            return await interleave_async(
                {
                    "count the window (baseline)": count,
                    "jobStats read": read,
                    "jobStats over GraphQL": graphql,
                },
                budget,
            )
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    arguments = parser.parse_args()
    urls = {
        "sqlite": f"sqlite+aiosqlite:///{DATA_DIR / 'job-stats.db'}",
        "postgresql": f"{POSTGRES_SERVER}/jobmonitor_bench_job_stats",
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    medians: dict[str, float] = {}
    for backend in (name.strip() for name in arguments.backends.split(",")):
        url = urls[backend]
        uvloop.run(seed_synthetic(url, jobs=arguments.jobs, days=arguments.days))
        say(f"\n{backend}: {arguments.jobs:,} jobs over {arguments.days} days")
        timings = uvloop.run(measure(url, Budget(runs=arguments.runs, warmup=2, seconds=120)))
        summaries = report(
            f"{backend}: 30 days by DAY", timings, baseline="count the window (baseline)"
        )
        medians[backend] = summaries["jobStats read"].median
        if backend == "postgresql":
            asyncio.run(drop_postgres_database(url))
    if len(medians) == 2:
        ratio = medians["sqlite"] / medians["postgresql"]
        say(f"\nSQLite / PostgreSQL (jobStats read): {ratio:.2f}x")


if __name__ == "__main__":
    main()

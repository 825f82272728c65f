"""jobStats on both databases equals a brute-force computation over seeded jobs; intervals it
cannot serve are VALIDATION errors."""

import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient

STATS = """
query($filter: JobFilter, $from: DateTime!, $to: DateTime!, $bucket: StatsBucket!) {
  jobStats(filter: $filter, from: $from, to: $to, bucket: $bucket) {
    buckets { start counts { all completed failed running cancelled } }
    workflows { workflow { slug } total failed failureRate durationP50Seconds
                durationP95Seconds costUsd }
  }
}
"""
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def seeded_specs(count: int) -> list[dict[str, Any]]:
    """Jobs spread over three weeks and a day either side, of both workflows, every status."""
    rng = random.Random(12)
    specs = []
    for _ in range(count):
        created = START + timedelta(seconds=rng.randrange(-86_400, 22 * 86_400))
        status = rng.choice([*FINISHED, JobStatus.RUNNING])
        started = created + timedelta(seconds=rng.randrange(0, 60))
        spec: dict[str, Any] = {
            "workflow": rng.choice(["se-rca-fix", "code-review"]),
            "status": status,
            "created_at": created,
            "started_at": started,
            "cost_usd": rng.choice([None, round(rng.uniform(0, 2), 4)]),
        }
        if status in FINISHED:
            spec["completed_at"] = started + timedelta(milliseconds=rng.randrange(1000, 900_000))
        specs.append(spec)
    return specs


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, written out independently."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    below, above = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    return below + (above - below) * (rank - math.floor(rank))


def brute_force(specs: list[dict[str, Any]], start: datetime, end: datetime, days: int) -> Any:
    inside = [spec for spec in specs if start <= spec["created_at"] < end]
    buckets = []
    for index in range(math.ceil((end - start) / timedelta(days=days))):
        begins = start + timedelta(days=days * index)
        statuses = Counter(
            spec["status"].value.lower()
            for spec in inside
            if begins <= spec["created_at"] < begins + timedelta(days=days)
        )
        counts = {name: statuses[name] for name in ("completed", "failed", "running", "cancelled")}
        buckets.append(
            {"start": begins.isoformat(), "counts": {"all": sum(statuses.values()), **counts}}
        )
    per_workflow: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for spec in inside:
        per_workflow[spec["workflow"]].append(spec)
    workflows = {}
    for slug, jobs in per_workflow.items():
        finished = [job for job in jobs if job["status"] in FINISHED]
        failed = sum(job["status"] is JobStatus.FAILED for job in jobs)
        durations = [(job["completed_at"] - job["started_at"]).total_seconds() for job in finished]
        costs = [job["cost_usd"] for job in jobs if job["cost_usd"] is not None]
        workflows[slug] = {
            "total": len(jobs),
            "failed": failed,
            "failureRate": failed / len(finished) if finished else 0.0,
            "durationP50Seconds": percentile(durations, 0.5),
            "durationP95Seconds": percentile(durations, 0.95),
            "costUsd": sum(costs) if costs else None,
        }
    return buckets, workflows


def close(answer: dict[str, Any], expected: dict[str, Any]) -> bool:
    return answer.keys() == expected.keys() and all(
        answer[key] == pytest.approx(value, abs=1e-3) for key, value in expected.items()
    )


async def test_stats_equal_a_brute_force_count(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    # given jobs of this tenant, and as many of another tenant in the same weeks
    specs = seeded_specs(300)
    await build_world(runtime.session_factory, tenant, specs)
    await build_world(runtime.session_factory, f"{tenant}-b", specs)
    for bucket, days, end in (
        ("DAY", 1, START + timedelta(days=21)),
        ("WEEK", 7, START + timedelta(days=21)),
    ):
        data = await gql.execute(
            STATS, **{"from": START.isoformat(), "to": end.isoformat(), "bucket": bucket}
        )
        buckets, workflows = brute_force(specs, START, end, days)
        answer = data["jobStats"]
        assert [
            {"start": datetime.fromisoformat(b["start"]).isoformat(), "counts": b["counts"]}
            for b in answer["buckets"]
        ] == buckets
        got = {w["workflow"]["slug"]: w for w in answer["workflows"]}
        assert got.keys() == workflows.keys()
        for slug, expected in workflows.items():
            figures = {key: value for key, value in got[slug].items() if key != "workflow"}
            assert close(figures, expected), (slug, figures, expected)


async def test_stats_narrowed_by_a_filter_and_by_the_hour(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    specs = seeded_specs(120)
    await build_world(runtime.session_factory, tenant, specs)
    start, end = START + timedelta(days=3, hours=5, minutes=30), START + timedelta(days=5)
    data = await gql.execute(
        STATS,
        filter={"workflow": ["code-review"]},
        **{"from": start.isoformat(), "to": end.isoformat(), "bucket": "HOUR"},
    )
    reviews = [spec for spec in specs if spec["workflow"] == "code-review"]
    hours = data["jobStats"]["buckets"]
    # the first bucket starts at the whole hour before `from`, and only jobs from `from` count
    assert hours[0]["start"].startswith("2026-03-05T05:00:00")
    assert len(hours) == 43
    assert sum(hour["counts"]["all"] for hour in hours) == sum(
        start <= spec["created_at"] < end for spec in reviews
    )
    assert [w["workflow"]["slug"] for w in data["jobStats"]["workflows"]] == ["code-review"]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-17T17:00:00Z", "bucket": "HOUR"}, "401"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z", "bucket": "DAY"}, "after"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z", "bucket": "DAY"}, "offset"),
    ],
)
async def test_intervals_it_cannot_serve_are_validation_errors(
    gql: GraphQLClient, arguments: dict[str, str], says: str
) -> None:
    body = await gql.raw(STATS, **arguments)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert says in error["message"]

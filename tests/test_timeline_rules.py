"""The pure parts of the timeline: status mismatch and repair rules, sizes, the expiring LRU
and the visibility budget."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.enums import JobStatus
from server.timeline.budget import RateBudget
from server.timeline.cache import ExpiringLru
from server.timeline.mismatch import SETTLE, status_mismatch
from server.timeline.reconcile import repair_status
from server.timeline.runs import RunSummary, human_size

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def run(status: str, *, counted: bool = True) -> RunSummary:
    return RunSummary(
        "pipeline-job-1", "019d500e-aaaa-bbbb", status, 83, 15_258, NOW, None, counted=counted
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        (JobStatus.RUNNING, "RUNNING", None),
        (JobStatus.SCHEDULED, "RUNNING", None),
        (JobStatus.COMPLETED, "COMPLETED", None),
        (JobStatus.FAILED, "FAILED", None),
        (JobStatus.CANCELLED, "COMPLETED", None),
        (JobStatus.FAILED, "COMPLETED", "portal says failed, orchestrator says COMPLETED"),
        (JobStatus.CANCELLED, "FAILED", "portal says cancelled, orchestrator says FAILED"),
        (JobStatus.CANCELLED, "CANCELLED", None),
        (JobStatus.FAILED, "TERMINATED", None),
        (JobStatus.RUNNING, "COMPLETED", "portal says running, orchestrator says COMPLETED"),
        (JobStatus.PAUSED, "TERMINATED", "portal says paused, orchestrator says TERMINATED"),
        (JobStatus.COMPLETED, "FAILED", "portal says completed, orchestrator says FAILED"),
        (JobStatus.FAILED, "CANCELLED", "portal says failed, orchestrator says CANCELLED"),
    ],
)
def test_status_mismatch(ours: JobStatus, theirs: str, expected: str | None) -> None:
    assert status_mismatch(ours, NOW, run(theirs), now=NOW) == expected


def test_an_ended_job_whose_run_still_runs_disagrees_only_once_settled() -> None:
    just_now, long_ago = NOW - timedelta(seconds=1), NOW - SETTLE - timedelta(seconds=1)
    assert status_mismatch(JobStatus.CANCELLED, just_now, run("RUNNING"), now=NOW) is None
    assert (
        status_mismatch(JobStatus.CANCELLED, long_ago, run("RUNNING"), now=NOW)
        == "portal says cancelled, orchestrator says RUNNING"
    )


@pytest.mark.parametrize(
    ("theirs", "result", "expected"),
    [
        ("COMPLETED", "COMPLETED", JobStatus.COMPLETED),
        ("COMPLETED", "FAILED", JobStatus.FAILED),
        ("COMPLETED", "ALREADY_ENDED", None),
        ("COMPLETED", None, None),
        ("TERMINATED", None, JobStatus.FAILED),
        ("TIMED_OUT", None, JobStatus.FAILED),
        ("CANCELLED", None, JobStatus.CANCELLED),
        ("RUNNING", None, None),
    ],
)
def test_repair_status(theirs: str, result: str | None, expected: JobStatus | None) -> None:
    assert repair_status(theirs, result) == expected


def test_the_summary_line() -> None:
    assert run("COMPLETED").headline == "Job: COMPLETED | 83 events | 14.9 KB | 019d500e"
    assert run("RUNNING").headline == "Job: RUNNING | 83 events | 14.9 KB | 019d500e"


def test_a_run_whose_history_is_not_counted_says_its_status_without_numbers() -> None:
    uncounted = run("RUNNING", counted=False)
    assert uncounted.headline == "Job: RUNNING | 019d500e"
    assert (uncounted.event_count, uncounted.size_bytes) == (None, None)
    assert [human_size(size) for size in (512, 15_258, 3 * 1024 * 1024)] == [
        "512 B",
        "14.9 KB",
        "3.0 MB",
    ]


def test_the_lru_keeps_the_recently_used_and_drops_the_expired() -> None:
    clock = [0.0]
    cache: ExpiringLru[str, int] = ExpiringLru(2, clock=lambda: clock[0])
    cache.put("closed", 1, ttl=None)
    cache.put("open", 2, ttl=1.0)
    assert cache.get("closed") == 1  # now the most recently used
    cache.put("third", 3, ttl=None)  # evicts "open", the least recently used
    assert (cache.get("open"), cache.get("closed"), cache.get("third")) == (None, 1, 3)
    cache.put("open", 2, ttl=1.0)
    clock[0] = 1.0
    assert cache.get("open") is None
    assert len(cache) == 1


async def test_the_budget_paces_calls_after_its_burst() -> None:
    budget = RateBudget(20, burst=2)
    started = time.monotonic()
    await asyncio.gather(*(budget.acquire() for _ in range(6)))
    # two at once, then one every 50 ms
    assert time.monotonic() - started >= 4 / 20 * 0.9

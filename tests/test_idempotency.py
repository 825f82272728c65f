"""Dispatch with an idempotency key: the same request again returns the same job, the same
key with another request is refused naming the key, and concurrent repeats make one job."""

import asyncio
from typing import Any

from sqlalchemy import func, select

from server.db.models import Job
from server.runtime import Runtime
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient
from tests.support.mutations import dispatch

KEY = "ticket-4711-retry"
# Enough to race, few enough that a busy machine answers them within the execution timeout.
CONCURRENT = 8
REQUEST: dict[str, Any] = {
    "workflow": "se-rca-fix",
    "input": {"repo": "example/app"},
    "hint": "look at the logs",
    "ticketUrl": "https://tracker.example.com/browse/OPS-4711",
    "idempotencyKey": KEY,
}


async def jobs_with_key(runtime: Runtime, tenant: str) -> int:
    async with runtime.session_factory() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.tenant_id == tenant, Job.idempotency_key == KEY)
        )
    return int(count or 0)


async def test_the_same_request_again_returns_the_same_job(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(runtime.session_factory, tenant, [])

    first = await dispatch(gql, **REQUEST)
    again = await dispatch(gql, **REQUEST)
    # the legacy alias names the same workflow
    aliased = await dispatch(gql, **{**REQUEST, "workflow": "agent_se_rca_fix"})

    assert first["errors"] == []
    assert again == first
    assert aliased == first
    assert await jobs_with_key(runtime, tenant) == 1


async def test_the_key_with_a_different_request_is_refused_naming_the_key(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(runtime.session_factory, tenant, [])
    first = await dispatch(gql, **REQUEST)
    number = first["job"]["number"]

    changes: dict[str, dict[str, Any]] = {
        "input": {"input": {"repo": "example/other"}},
        "workflow": {"workflow": "code-review"},
        "hint": {"hint": None},
        "agent": {"agent": "agent-02"},
    }
    for field, change in changes.items():
        payload = await dispatch(gql, **{**REQUEST, **change})

        assert payload["job"] is None, field
        [error] = payload["errors"]
        assert error == {
            "code": "VALIDATION",
            "field": "idempotencyKey",
            "message": f"idempotency key '{KEY}' was already used for job #{number} "
            f"with a different {field}",
        }
    assert await jobs_with_key(runtime, tenant) == 1


async def test_concurrent_dispatches_with_one_key_make_one_job(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(runtime.session_factory, tenant, [])

    payloads = await asyncio.gather(*(dispatch(gql, **REQUEST) for _ in range(CONCURRENT)))

    assert all(payload["errors"] == [] for payload in payloads), payloads
    assert len({payload["job"]["number"] for payload in payloads}) == 1
    assert await jobs_with_key(runtime, tenant) == 1


async def test_concurrent_dispatches_asking_different_things_under_one_key_make_one_job(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    await build_world(runtime.session_factory, tenant, [])
    requests = [{**REQUEST, "input": {"repo": f"example/{n % 2}"}} for n in range(CONCURRENT)]

    payloads = await asyncio.gather(*(dispatch(gql, **request) for request in requests))

    # one request won; the ones asking what it asked got its job, the others were refused
    made = {p["job"]["number"] for p in payloads if p["job"] is not None}
    assert len(made) == 1, payloads
    winners = [r["input"] for r, p in zip(requests, payloads, strict=True) if p["job"]]
    refused = [r["input"] for r, p in zip(requests, payloads, strict=True) if not p["job"]]
    assert len(winners) == CONCURRENT // 2
    assert len({str(w) for w in winners}) == 1
    assert all(r != winners[0] for r in refused)
    assert {e["code"] for p in payloads for e in p["errors"]} == {"VALIDATION"}
    assert await jobs_with_key(runtime, tenant) == 1

"""Notifications out: owed in the transaction of a status change, delivered after commit to
receivers on 127.0.0.1, retried with backoff, never sent by two dispatchers at once, resent
under the same delivery id after a dispatcher dies mid-request, and a hanging target holds up
neither the job nor the other targets. On both databases."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr
from sqlalchemy import select

from server.db.models import Job, JobNotification
from server.domain.dispatch import DispatchRequest
from server.domain.enums import DeliveryStatus, JobStatus
from server.domain.signing import SIGNATURE_HEADER, signature
from server.runtime import Runtime
from server.services import state_machine
from server.services.notifications import (
    DELIVERY_HEADER,
    NotificationDispatcher,
    RetryPolicy,
)
from server.services.unit_of_work import UnitOfWork, run_retrying
from server.settings import NotifyKind, NotifyTarget
from server.workflows.definition import DefinitionError, parse_workflow
from server.workflows.store import save_workflows
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient
from tests.support.servers import serve
from tests.support.waiting import eventually

SECRET = "receiver-secret"
THREAD = "1764590400.000100"
NOTIFICATIONS = """
query Job($number: Int!) {
  job(number: $number) {
    notifications { target status delivery attempts lastAttemptAt error }
  }
}
"""


@dataclass
class Receiver:
    """A webhook receiver: records every request per path, answers from a script per path
    (then 200), and hangs on paths listed in `hanging` until `release` is set."""

    script: dict[str, list[int]] = field(default_factory=dict)
    hanging: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    seen: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path}")
        async def receive(path: str, request: Request) -> Response:
            body = await request.body()
            self.seen.setdefault(path, []).append((dict(request.headers), body))
            if path in self.hanging:
                await self.release.wait()
            answers = self.script.get(path, [])
            status = answers.pop(0) if answers else 200
            content = f'{{"ok": true, "ts": "{THREAD}"}}' if path == "slack" else "ok"
            return Response(content, status_code=status, media_type="application/json")

        return app

    def deliveries(self, path: str) -> list[str]:
        return [headers[DELIVERY_HEADER.lower()] for headers, _ in self.seen.get(path, [])]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    async with serve(receiver.app()) as server:
        try:
            yield receiver, server.http_url
        finally:
            receiver.release.set()


def dispatcher(
    runtime: Runtime, base_url: str, *paths: str, timeout: float = 5.0
) -> NotificationDispatcher:
    targets = {
        path: NotifyTarget(
            kind=NotifyKind.SLACK if path == "slack" else NotifyKind.WEBHOOK,
            url=SecretStr(f"{base_url}/{path}"),
            secret=None if path == "slack" else SecretStr(SECRET),
        )
        for path in paths
    }
    policy = RetryPolicy(max_attempts=4, backoff=0.05, timeout=timeout)
    return NotificationDispatcher(runtime.session_factory, targets, policy=policy, per_target=2)


async def a_job_notifying(runtime: Runtime, tenant: str, notify: list[dict[str, Any]]) -> int:
    """A job of a workflow whose `notify:` list is `notify`, PENDING."""
    await build_world(runtime.session_factory, tenant, [])
    workflow = parse_workflow({"slug": "notified", "steps": [{"name": "a"}], "notify": notify})
    await save_workflows(runtime.session_factory, tenant=tenant, definitions=[workflow])
    request = DispatchRequest(workflow="notified", ticket_url="https://t.example/browse/OPS-7")
    job = await runtime.jobs.dispatch(tenant=tenant, request=request, actor="test")
    return job.number


async def move(runtime: Runtime, tenant: str, number: int, *statuses: JobStatus) -> None:
    for status in statuses:

        async def action(work: UnitOfWork, status: JobStatus = status) -> None:
            job = await state_machine.locked_job(work, tenant, number)
            await state_machine.transition(work, job, status, actor="test")

        await run_retrying(runtime.session_factory, runtime.bus, action)


async def notifications(runtime: Runtime, number: int) -> list[JobNotification]:
    async with runtime.session_factory() as session:
        rows = await session.scalars(
            select(JobNotification)
            .where(JobNotification.job_number == number)
            .order_by(JobNotification.id)
        )
        return list(rows)


async def test_failed_and_waiting_reach_their_targets_after_two_server_errors(
    runtime: Runtime, tenant: str, gql: GraphQLClient, receiver: tuple[Receiver, str]
) -> None:
    server, url = receiver
    server.script["ops"] = [500, 500]
    number = await a_job_notifying(
        runtime,
        tenant,
        [
            {"target": "ops", "on": ["FAILED", "WAITING"]},
            {"target": "slack", "on": ["WAITING", "FAILED"]},
        ],
    )

    async def delivered(count: int) -> list[JobNotification]:
        rows = await notifications(runtime, number)
        assert [row.delivery for row in rows] == [DeliveryStatus.DELIVERED] * count
        return rows

    async with dispatcher(runtime, url, "ops", "slack").running(0.05):
        await move(runtime, tenant, number, JobStatus.RUNNING, JobStatus.WAITING)
        await eventually(lambda: delivered(2))
        await move(runtime, tenant, number, JobStatus.RUNNING, JobStatus.FAILED)
        rows = await eventually(lambda: delivered(4))

    assert {(row.target, row.status, row.attempts) for row in rows} == {
        ("ops", JobStatus.WAITING, 3),
        ("slack", JobStatus.WAITING, 1),
        ("ops", JobStatus.FAILED, 1),
        ("slack", JobStatus.FAILED, 1),
    }
    # the three attempts at WAITING carried one delivery id, every body signed
    waiting = next(row.id for row in rows if (row.target, row.status) == ("ops", "WAITING"))
    assert server.deliveries("ops").count(str(waiting)) == 3
    assert all(
        headers[SIGNATURE_HEADER.lower()] == signature(SECRET, body)
        for headers, body in server.seen["ops"]
    )
    # the job's first Slack message opened its thread; the next one went into it
    slack_bodies = [body for _, body in server.seen["slack"]]
    assert b"thread_ts" not in slack_bodies[0]
    assert THREAD.encode() in slack_bodies[1]
    assert b"OPS-7" in slack_bodies[0]
    shown = (await gql.execute(NOTIFICATIONS, number=number))["job"]["notifications"]
    assert shown[0] == {
        "target": "ops",
        "status": "WAITING",
        "delivery": "DELIVERED",
        "attempts": 3,
        "lastAttemptAt": shown[0]["lastAttemptAt"],
        "error": None,
    }
    assert url not in str(shown)


async def test_a_target_that_keeps_failing_is_failed_after_its_last_attempt(
    runtime: Runtime, tenant: str, gql: GraphQLClient, receiver: tuple[Receiver, str]
) -> None:
    server, url = receiver
    server.script["down"] = [503] * 10
    number = await a_job_notifying(runtime, tenant, [{"target": "down", "on": ["FAILED"]}])

    async with dispatcher(runtime, url, "down").running(0.05):
        await move(runtime, tenant, number, JobStatus.FAILED)

        async def given_up() -> JobNotification:
            [row] = await notifications(runtime, number)
            assert row.delivery is DeliveryStatus.FAILED
            return row

        await eventually(given_up)

    [shown] = (await gql.execute(NOTIFICATIONS, number=number))["job"]["notifications"]
    assert (shown["delivery"], shown["attempts"], shown["error"]) == ("FAILED", 4, "HTTP 503")


async def test_a_status_reached_again_is_not_owed_again(
    runtime: Runtime, tenant: str, receiver: tuple[Receiver, str]
) -> None:
    number = await a_job_notifying(runtime, tenant, [{"target": "ops", "on": ["WAITING"]}])

    await move(runtime, tenant, number, JobStatus.RUNNING, JobStatus.WAITING)
    await move(runtime, tenant, number, JobStatus.RUNNING, JobStatus.WAITING)

    assert [(row.target, row.status) for row in await notifications(runtime, number)] == [
        ("ops", JobStatus.WAITING)
    ]


async def test_a_hanging_target_delays_neither_the_job_nor_other_targets(
    runtime: Runtime, tenant: str, receiver: tuple[Receiver, str]
) -> None:
    server, url = receiver
    server.hanging.add("stuck")
    number = await a_job_notifying(
        runtime,
        tenant,
        [{"target": "stuck", "on": ["RUNNING", "FAILED"]}, {"target": "ops", "on": ["FAILED"]}],
    )

    # the stuck target's requests would time out after 60 s; the others are done well before
    async with dispatcher(runtime, url, "stuck", "ops", timeout=60).running(0.05):
        await move(runtime, tenant, number, JobStatus.RUNNING)
        await eventually(lambda: server.deliveries("stuck"))
        await move(runtime, tenant, number, JobStatus.FAILED)

        async def ops_delivered() -> bool:
            rows = {(row.target, row.status): row for row in await notifications(runtime, number)}
            assert rows["ops", JobStatus.FAILED].delivery is DeliveryStatus.DELIVERED
            assert rows["stuck", JobStatus.RUNNING].delivery is DeliveryStatus.PENDING
            return True

        await eventually(ops_delivered, timeout=20)
        async with runtime.session_factory() as session:
            job = await session.get_one(Job, number)
        assert job.status is JobStatus.FAILED


async def test_two_dispatchers_at_once_send_each_notification_once(
    runtime: Runtime, tenant: str, receiver: tuple[Receiver, str]
) -> None:
    server, url = receiver
    statuses = ["RUNNING", "WAITING", "FAILED"]
    number = await a_job_notifying(
        runtime, tenant, [{"target": name, "on": statuses} for name in ("a", "b")]
    )
    await move(runtime, tenant, number, JobStatus.RUNNING, JobStatus.WAITING, JobStatus.FAILED)

    first, second = dispatcher(runtime, url, "a", "b"), dispatcher(runtime, url, "a", "b")
    async with first.running(0.01), second.running(0.01):

        async def all_delivered() -> bool:
            rows = await notifications(runtime, number)
            assert [row.delivery for row in rows] == [DeliveryStatus.DELIVERED] * 6
            return True

        await eventually(all_delivered)

    for path in ("a", "b"):
        sent = server.deliveries(path)
        assert len(sent) == len(set(sent)) == 3


async def test_after_a_dispatcher_dies_mid_request_the_next_resends_under_the_same_id(
    runtime: Runtime, tenant: str, receiver: tuple[Receiver, str]
) -> None:
    server, url = receiver
    server.hanging.add("ops")
    number = await a_job_notifying(runtime, tenant, [{"target": "ops", "on": ["FAILED"]}])
    await move(runtime, tenant, number, JobStatus.FAILED)

    # the first dispatcher sends, then dies before it hears the answer
    async with dispatcher(runtime, url, "ops", timeout=0.5).running(0.05):
        await eventually(lambda: server.deliveries("ops"))
    server.hanging.clear()
    # the next one sends again once the claim has run out, under the same delivery id
    async with dispatcher(runtime, url, "ops", timeout=0.5).running(0.05):

        async def delivered() -> JobNotification:
            [row] = await notifications(runtime, number)
            assert row.delivery is DeliveryStatus.DELIVERED
            return row

        row = await eventually(delivered)

    assert server.deliveries("ops") == [str(row.id), str(row.id)]
    assert row.attempts == 1


def test_a_notify_list_names_the_place_that_is_wrong() -> None:
    steps = [{"name": "a"}]
    with pytest.raises(DefinitionError, match=r"notify\[0\]\.on: must list job statuses"):
        parse_workflow({"slug": "w", "steps": steps, "notify": [{"target": "t", "on": ["DONE"]}]})
    with pytest.raises(DefinitionError, match=r"notify\[0\]\.target"):
        parse_workflow({"slug": "w", "steps": steps, "notify": [{"on": ["FAILED"]}]})

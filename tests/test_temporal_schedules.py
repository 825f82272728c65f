"""Schedules on Temporal's own Schedules, on a real dev server: runs become jobs, pause,
resume and delete reach Temporal, overlap follows the policy, bad input and an unreachable
Temporal leave nothing behind, and one tenant never reaches another's schedules."""

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select
from strawberry.relay import GlobalID
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.client import Schedule as TemporalSchedule
from temporalio.service import RPCError

from server.app import create_app
from server.auth import Role
from server.db.models import Schedule
from server.runtime import Runtime
from server.services.schedules import OneSidedSchedule
from server.temporal.dev_server import dev_server

from .support.auth import app_with, bearer, token_for
from .support.graphql import GraphQLClient, serving
from .support.temporal import Loader, status_is, wait_for, with_temporal
from .support.waiting import eventually

pytestmark = pytest.mark.usefixtures("control_plane", "agent")

HELLO = """
slug: hello-schedule
input_schema: {type: object, properties: {name: {type: string}}}
steps:
  - name: greet
    run: |
      printf '{"greeted": "%s"}' "$JOB_INPUT_NAME" > "$JOB_OUTPUT"
"""
SCHEDULE_FIELDS = """
  id cron intervalSeconds timezone input agent effortLevel overlap paused note createdAt
  workflow { slug }
"""
CREATE = (
    "mutation($input: ScheduleInput!) { createSchedule(input: $input) "
    "{ schedule {" + SCHEDULE_FIELDS + "} errors { code message field } } }"
)
PAUSE = (
    "mutation($id: ID!, $note: String) { pauseSchedule(id: $id, note: $note) "
    "{ schedule { id paused note } errors { code message field } } }"
)
RESUME = (
    "mutation($id: ID!) { resumeSchedule(id: $id) "
    "{ schedule { id paused note } errors { code message field } } }"
)
DELETE = (
    "mutation($id: ID!) { deleteSchedule(id: $id) "
    "{ schedule { id } errors { code message field } } }"
)
TRIGGER = (
    "mutation($id: ID!) { triggerSchedule(id: $id) "
    "{ job { number status source input schedule { id } } errors { code message field } } }"
)
SCHEDULES = """
query($workflow: [String!]) {
  schedules(first: 10, workflow: $workflow) {
    totalCount
    edges { node { id paused nextRunTimes(count: 3) recentJobs(first: 5) { number } } }
  }
}
"""
ROWS = "{ schedules { totalCount edges { node { id paused } } } }"
JOB_SCHEDULE = "query($number: Int!) { job(number: $number) { schedule { id } } }"


@pytest.fixture(scope="session")
async def scheduler_warm(temporal_client: Client) -> None:
    """A fresh dev server starts its scheduler a few seconds after it answers: one throwaway
    run first, so the tests' triggers are timed against a scheduler that is up."""
    handle = await temporal_client.create_schedule(
        f"warm-up-{uuid.uuid4().hex}",
        TemporalSchedule(
            action=ScheduleActionStartWorkflow("WarmUp", id="warm-up", task_queue="warm-up"),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
            state=ScheduleState(paused=True),
        ),
    )
    await handle.trigger()
    await eventually(lambda: _has_run(handle), timeout=60)
    await handle.delete()


async def _has_run(handle: ScheduleHandle) -> bool:
    return bool((await handle.describe()).info.recent_actions)


@pytest.fixture(autouse=True)
async def schedules_removed(
    scheduler_warm: None, temporal_client: Client, temporal_runtime: Runtime, tenant: str
) -> AsyncIterator[None]:
    """The test's schedules go out of Temporal afterwards (the dev server outlives the test)."""
    yield
    async with temporal_runtime.session_factory() as session:
        keys = await session.scalars(
            select(Schedule.temporal_id).where(Schedule.tenant_id == tenant)
        )
        for key in keys:
            with contextlib.suppress(RPCError):
                await temporal_client.get_schedule_handle(key).delete()


async def create(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.execute(CREATE, input=fields))["createSchedule"]
    return payload


async def created(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    payload = await create(gql, **fields)
    assert payload["errors"] == [], payload
    schedule: dict[str, Any] = payload["schedule"]
    return schedule


async def trigger(gql: GraphQLClient, schedule_id: str) -> dict[str, Any]:
    payload = (await gql.execute(TRIGGER, id=schedule_id))["triggerSchedule"]
    assert payload["errors"] == [], payload
    job: dict[str, Any] = payload["job"]
    return job


async def test_a_schedule_every_ten_seconds_makes_jobs_that_know_their_schedule(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    # Given a schedule that runs every 10 seconds (made paused, so only the test starts runs)
    await load_workflow(HELLO)
    schedule = await created(
        tgql, workflow="hello-schedule", intervalSeconds=10, input={"name": "ada"}, paused=True
    )
    assert schedule["workflow"] == {"slug": "hello-schedule"}
    assert (schedule["timezone"], schedule["overlap"], schedule["paused"]) == ("UTC", "SKIP", True)

    # When it runs twice (triggered now rather than waited for)
    first = await trigger(tgql, schedule["id"])
    second = await trigger(tgql, schedule["id"])

    # Then each run is a job of the schedule, with its input, that completes
    assert second["number"] > first["number"]
    for job in (first, second):
        assert job["schedule"] == {"id": schedule["id"]}
        assert (job["source"], job["input"]) == ("SCHEDULE", {"name": "ada"})
        done = await wait_for(tgql, job["number"], status_is("COMPLETED"))
        assert done["output"] == {"greeted": "ada"}
        assert (await tgql.execute(JOB_SCHEDULE, number=job["number"]))["job"] == {
            "schedule": {"id": schedule["id"]}
        }
    # and the list shows it with its recent jobs newest first and Temporal's next times
    listed = (await tgql.execute(SCHEDULES, workflow=["hello-schedule"]))["schedules"]
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert [job["number"] for job in node["recentJobs"]] == [second["number"], first["number"]]
    times = [datetime.fromisoformat(time) for time in node["nextRunTimes"]]
    assert len(times) == 3
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == [
        timedelta(seconds=10)
    ] * 2
    other = (await tgql.execute(SCHEDULES, workflow=["no-such-workflow"]))["schedules"]
    assert other == {"totalCount": 0, "edges": []}


async def test_pause_resume_and_delete_reach_temporal_and_the_jobs_stay(
    tgql: GraphQLClient, load_workflow: Loader, temporal_client: Client, temporal_runtime: Runtime
) -> None:
    # Given a cron schedule in Paris time that has run once
    await load_workflow(HELLO)
    schedule = await created(
        tgql, workflow="hello-schedule", cron="30 9 * * MON-FRI", timezone="Europe/Paris"
    )
    job = await trigger(tgql, schedule["id"])
    key = await _key(temporal_runtime, schedule["id"])
    handle = temporal_client.get_schedule_handle(key)
    assert (await handle.describe()).schedule.spec.time_zone_name == "Europe/Paris"
    listed = (await tgql.execute(SCHEDULES, workflow=None))["schedules"]["edges"][0]["node"]
    paris = [
        datetime.fromisoformat(time).astimezone(ZoneInfo("Europe/Paris"))
        for time in listed["nextRunTimes"]
    ]
    assert len(paris) == 3
    assert all((t.hour, t.minute, t.weekday() < 5) == (9, 30, True) for t in paris), paris

    # When it is paused with a note
    paused = (await tgql.execute(PAUSE, id=schedule["id"], note="release freeze"))["pauseSchedule"]

    # Then the API and Temporal both say paused, with the note
    assert paused == {
        "schedule": {"id": schedule["id"], "paused": True, "note": "release freeze"},
        "errors": [],
    }
    described = await handle.describe()
    assert (described.schedule.state.paused, described.schedule.state.note) == (
        True,
        "release freeze",
    )

    # When it is resumed, then both say running again
    resumed = (await tgql.execute(RESUME, id=schedule["id"]))["resumeSchedule"]
    assert resumed["schedule"] == {"id": schedule["id"], "paused": False, "note": None}
    assert (await handle.describe()).schedule.state.paused is False

    # When it is deleted
    deleted = (await tgql.execute(DELETE, id=schedule["id"]))["deleteSchedule"]

    # Then Temporal no longer has it, the list is empty, and its job stays (without it)
    assert deleted == {"schedule": {"id": schedule["id"]}, "errors": []}
    with pytest.raises(RPCError):
        await handle.describe()
    assert (await tgql.execute(SCHEDULES, workflow=None))["schedules"]["totalCount"] == 0
    await wait_for(tgql, job["number"], status_is("COMPLETED"))
    assert (await tgql.execute(JOB_SCHEDULE, number=job["number"]))["job"] == {"schedule": None}
    again = (await tgql.execute(PAUSE, id=schedule["id"], note=None))["pauseSchedule"]
    assert [error["code"] for error in again["errors"]] == ["NOT_FOUND"]


SLOW = """
slug: slow-schedule
steps:
  - name: wait
    run: while [ ! -f {flag} ]; do sleep 0.05; done
"""


@pytest.mark.parametrize(("overlap", "more_jobs"), [("SKIP", False), ("ALLOW_ALL", True)])
async def test_runs_due_while_the_previous_run_goes_on_follow_the_overlap_policy(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_client: Client,
    temporal_runtime: Runtime,
    tmp_path: Path,
    overlap: str,
    more_jobs: bool,
) -> None:
    # Given a schedule whose run is still going
    flag = tmp_path / "flag"
    await load_workflow(SLOW.format(flag=flag))
    schedule = await created(
        tgql, workflow="slow-schedule", intervalSeconds=10, overlap=overlap, paused=True
    )
    first = await trigger(tgql, schedule["id"])
    await wait_for(tgql, first["number"], status_is("RUNNING"))
    handle = temporal_client.get_schedule_handle(await _key(temporal_runtime, schedule["id"]))

    # When runs come due meanwhile (Temporal replays the last 30 seconds of times)
    now = datetime.now(UTC)
    await handle.backfill(ScheduleBackfill(start_at=now - timedelta(seconds=30), end_at=now))

    # Then SKIP makes no job for them (Temporal counts them skipped); ALLOW_ALL starts them
    async def settled() -> Any:
        if more_jobs:
            return len(await _recent_jobs(tgql, schedule["id"])) > 1
        return (await handle.describe()).info.num_actions_skipped_overlap

    await eventually(settled, timeout=30)
    recent = await _recent_jobs(tgql, schedule["id"])
    assert (len(recent) > 1) is more_jobs
    flag.touch()
    for number in recent:
        await wait_for(tgql, number, status_is("COMPLETED"))


async def test_bad_schedules_are_refused_with_their_field_and_nothing_is_created(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow(HELLO)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"cron": "61 * * * *"}, "VALIDATION", "cron"),
        ({"cron": "every day"}, "VALIDATION", "cron"),
        ({"cron": "*/0 * * * *"}, "VALIDATION", "cron"),
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "VALIDATION", "timezone"),
        ({"intervalSeconds": 5}, "VALIDATION", "intervalSeconds"),
        ({"cron": "0 9 * * *", "intervalSeconds": 60}, "VALIDATION", "cron"),
        ({}, "VALIDATION", "cron"),
        ({"intervalSeconds": 60, "workflow": "no-such-workflow"}, "VALIDATION", "workflow"),
        ({"intervalSeconds": 60, "input": {"name": 3}}, "VALIDATION", "input/name"),
        ({"intervalSeconds": 60, "agent": "no-such-agent"}, "NOT_FOUND", "agent"),
    ]
    for fields, code, field in cases:
        payload = await create(tgql, **{"workflow": "hello-schedule", **fields})
        assert payload["schedule"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], fields
    assert (await tgql.execute(SCHEDULES, workflow=None))["schedules"]["totalCount"] == 0


async def test_with_temporal_stopped_a_schedule_is_refused_and_nothing_is_half_created(
    temporal_runtime: Runtime, load_workflow: Loader, tmp_path: Path
) -> None:
    # Given an API whose Temporal dev server ran and has stopped
    await load_workflow(HELLO)
    async with dev_server() as address:
        runtime = with_temporal(temporal_runtime, address, tmp_path / "workspaces")
        async with serving(create_app(runtime=runtime)) as http:
            made = await created(GraphQLClient(http), workflow="hello-schedule", intervalSeconds=60)
    async with serving(create_app(runtime=runtime)) as http:
        gql = GraphQLClient(http)

        # When a schedule is created, paused or deleted
        refused = await create(gql, workflow="hello-schedule", intervalSeconds=60)
        paused = (await gql.execute(PAUSE, id=made["id"], note="x"))["pauseSchedule"]
        deleted = (await gql.execute(DELETE, id=made["id"]))["deleteSchedule"]

        # Then each answers ORCHESTRATOR_UNAVAILABLE and the database holds what it held
        for payload in (refused, paused, deleted):
            assert [e["code"] for e in payload["errors"]] == ["ORCHESTRATOR_UNAVAILABLE"]
        listed = (await gql.execute(ROWS))["schedules"]
        assert listed == {"totalCount": 1, "edges": [{"node": {"id": made["id"], "paused": False}}]}
        # and what only Temporal knows says it cannot be had
        times = await gql.raw(SCHEDULES, workflow=None)
        assert [e["extensions"]["code"] for e in times["errors"]] == ["ORCHESTRATOR_UNAVAILABLE"]


async def test_another_tenant_can_neither_see_nor_touch_a_schedule_or_its_jobs(
    temporal_runtime: Runtime, tgql: GraphQLClient, load_workflow: Loader, tenant: str
) -> None:
    # Given tenant A's schedule with a job, and tenant B's operator token
    await load_workflow(HELLO)
    schedule = await created(tgql, workflow="hello-schedule", intervalSeconds=60, paused=True)
    job = await trigger(tgql, schedule["id"])
    b_token = await token_for(temporal_runtime, Role.ADMIN, tenant=f"{tenant}-b")
    async with serving(app_with(temporal_runtime)) as http:

        async def as_b(query: str, **variables: Any) -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers=bearer(b_token),
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            return body["data"]

        # When B lists, reads, pauses, resumes, triggers and deletes it
        listed = await as_b(SCHEDULES, workflow=None)
        node = await as_b("query($id: ID!) { node(id: $id) { id } }", id=schedule["id"])
        seen_job = await as_b(JOB_SCHEDULE, number=job["number"])
        answers = [
            (await as_b(PAUSE, id=schedule["id"], note="x"))["pauseSchedule"],
            (await as_b(RESUME, id=schedule["id"]))["resumeSchedule"],
            (await as_b(TRIGGER, id=schedule["id"]))["triggerSchedule"],
            (await as_b(DELETE, id=schedule["id"]))["deleteSchedule"],
        ]

    # Then B sees nothing and every action is NOT_FOUND; A's schedule is untouched
    assert listed["schedules"] == {"totalCount": 0, "edges": []}
    assert node == {"node": None}
    assert seen_job == {"job": None}
    for answer in answers:
        assert [e["code"] for e in answer["errors"]] == ["NOT_FOUND"], answer
    mine = (await tgql.execute(SCHEDULES, workflow=None))["schedules"]["edges"]
    assert [(n["node"]["id"], n["node"]["paused"]) for n in mine] == [(schedule["id"], True)]
    assert [j["number"] for j in mine[0]["node"]["recentJobs"]] == [job["number"]]


async def test_reconcile_reports_schedules_that_exist_on_one_side_only(
    tgql: GraphQLClient,
    load_workflow: Loader,
    temporal_client: Client,
    temporal_runtime: Runtime,
    tenant: str,
) -> None:
    # Given three schedules: one whole, one whose row is gone, one Temporal lost
    await load_workflow(HELLO)
    made = [
        await created(tgql, workflow="hello-schedule", intervalSeconds=60, paused=True)
        for _ in range(3)
    ]
    keys = [await _key(temporal_runtime, schedule["id"]) for schedule in made]
    async with temporal_runtime.session_factory() as session, session.begin():
        await session.execute(delete(Schedule).where(Schedule.temporal_id == keys[1]))
    await temporal_client.get_schedule_handle(keys[2]).delete()
    lost_id = int(GlobalID.from_id(made[2]["id"]).node_id)

    # When reconcile looks (Temporal's list catches up with the deletion eventually)
    async def one_sided() -> list[OneSidedSchedule] | None:
        found = await temporal_runtime.schedules.one_sided(tenant=tenant)
        return found if len(found) == 2 else None

    found = await eventually(one_sided, timeout=15)

    # Then it names both, and says which side has each
    assert [finding.line() for finding in found] == [
        f"schedule #{lost_id} [{keys[2]}]: in the database only (not in Temporal)",
        f"schedule [{keys[1]}]: in Temporal only (no row in the database)",
    ]
    await temporal_client.get_schedule_handle(keys[1]).delete()


async def _key(runtime: Runtime, schedule_id: str) -> str:
    """The schedule's id in Temporal."""
    number = int(GlobalID.from_id(schedule_id).node_id)
    async with runtime.session_factory() as session:
        return (await session.get_one(Schedule, number)).temporal_id


async def _recent_jobs(gql: GraphQLClient, schedule_id: str) -> list[int]:
    listed = (await gql.execute(SCHEDULES, workflow=None))["schedules"]["edges"]
    node = next(edge["node"] for edge in listed if edge["node"]["id"] == schedule_id)
    return [job["number"] for job in node["recentJobs"]]

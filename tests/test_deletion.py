"""Deleting finished jobs: deleteJobs (by id and by filter, admins only) and the retention
(prune, in batches), on both databases; counts stay exact and subscribers hear of it."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from strawberry.relay import GlobalID
from typer.testing import CliRunner

from server.auth import Role
from server.cli import app as cli
from server.db.models import (
    AuditEntry,
    Job,
    JobEvent,
    JobStatusCount,
    JobStep,
    LogLine,
)
from server.db.status_counts import rebuild_status_counts
from server.domain.enums import JobStatus
from server.runtime import Runtime
from server.services.deletion import JobDeletion
from tests.support.auth import app_with, post, token_for
from tests.support.factories import BASE_TIME, add_details, build_world
from tests.support.graphql import GraphQLClient, serving
from tests.support.live import streams_registered
from tests.support.servers import LiveServer
from tests.support.waiting import eventually
from tests.support.websocket import TRANSPORT_WS, graphql_ws

DELETE_IDS = (
    "mutation($ids: [ID!]) { deleteJobs(ids: $ids) { deletedCount errors { code message field } } }"
)
DELETE_FILTER = (
    "mutation($filter: JobFilter) { deleteJobs(filter: $filter) "
    "{ deletedCount errors { code message field } } }"
)
JOB_UPDATED = "subscription($id: ID!) { jobUpdated(id: $id) { number status } }"
COUNTS = "subscription { jobCounts { all completed failed running } }"


def gid(number: int) -> str:
    return str(GlobalID("Job", str(number)))


async def counts_table(runtime: Runtime, tenant: str) -> dict[JobStatus, int]:
    async with runtime.session_factory() as session:
        rows = await session.execute(
            select(JobStatusCount.status, JobStatusCount.count).where(
                JobStatusCount.tenant_id == tenant, JobStatusCount.count != 0
            )
        )
        return {status: int(count) for status, count in rows}


async def counted(runtime: Runtime, tenant: str) -> dict[JobStatus, int]:
    """The brute-force truth: the tenant's jobs grouped by status."""
    async with runtime.session_factory() as session:
        rows = await session.execute(
            select(Job.status, func.count()).where(Job.tenant_id == tenant).group_by(Job.status)
        )
        return {status: int(count) for status, count in rows}


async def rows_of(runtime: Runtime, numbers: list[int]) -> int:
    async with runtime.session_factory() as session:
        total = 0
        for table in (Job, JobStep, JobEvent, LogLine):
            key = table.number if table is Job else table.job_number
            total += int(
                await session.scalar(
                    select(func.count()).select_from(table).where(key.in_(numbers))
                )
                or 0
            )
        return total


async def test_delete_by_ids_and_by_filter_keeps_active_jobs_and_exact_counts(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    # given finished and active jobs of two workflows, with steps, events and logs
    statuses = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.RUNNING, JobStatus.CANCELLED]
    world = await build_world(
        runtime.session_factory,
        tenant,
        [{"status": status, "workflow": "code-review"} for status in statuses]
        + [{"status": status} for status in statuses],
    )
    for job in world.jobs:
        await add_details(runtime.session_factory, job, steps=2, logs=5)
    review, fix = world.jobs[:4], world.jobs[4:]
    # and a running resend of a finished job, which outlives its original
    resend = Job(
        tenant_id=tenant,
        workflow_id=world.workflows["code-review"].id,
        status=JobStatus.RUNNING,
        created_at=BASE_TIME,
        input={},
        resent_from_number=review[1].number,
    )
    async with runtime.session_factory() as session, session.begin():
        session.add(resend)
        await session.flush()
        await rebuild_status_counts(session, tenant)

    # when two finished jobs, a running one and an unknown id are deleted by id
    by_ids = (
        await gql.execute(
            DELETE_IDS,
            ids=[
                gid(review[0].number),
                gid(review[2].number),
                gid(review[1].number),
                gid(999_999_999),
            ],
        )
    )["deleteJobs"]
    # then the finished ones are gone, the running one is refused and kept
    assert by_ids["deletedCount"] == 2
    assert [(e["code"], e["field"]) for e in by_ids["errors"]] == [
        ("INVALID_TRANSITION", "ids"),
        ("NOT_FOUND", "ids"),
    ]
    assert "RUNNING" in by_ids["errors"][0]["message"]
    assert await rows_of(runtime, [review[0].number, review[1].number]) == 0
    assert await counts_table(runtime, tenant) == await counted(runtime, tenant)

    # when every se-rca-fix job is deleted by filter
    by_filter = (await gql.execute(DELETE_FILTER, filter={"workflow": ["se-rca-fix"]}))[
        "deleteJobs"
    ]
    # then its three finished jobs go, its running one stays (one error for the filter)
    assert by_filter["deletedCount"] == 3
    assert [(e["code"], e["field"]) for e in by_filter["errors"]] == [
        ("INVALID_TRANSITION", "filter")
    ]
    assert (
        await rows_of(
            runtime,
            [
                job.number
                for job in fix
                if job.status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
            ],
        )
        == 0
    )
    assert await counts_table(runtime, tenant) == await counted(runtime, tenant)
    assert await counted(runtime, tenant) == {JobStatus.RUNNING: 3, JobStatus.CANCELLED: 1}
    async with runtime.session_factory() as session:
        kept = await session.get_one(Job, resend.number)
    assert kept.resent_from_number is None


async def test_only_admins_delete_and_each_deletion_is_audited(
    runtime: Runtime, tenant: str
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{}, {}])
    operator = await token_for(runtime, Role.OPERATOR)
    admin = await token_for(runtime, Role.ADMIN)
    async with serving(app_with(runtime)) as http:
        refused = (await post(http, DELETE_IDS, operator, ids=[gid(world.jobs[0].number)])).json()
        done = (await post(http, DELETE_FILTER, admin, filter={"status": ["COMPLETED"]})).json()
    assert refused["data"]["deleteJobs"]["errors"][0]["code"] == "FORBIDDEN"
    assert done["data"]["deleteJobs"] == {"deletedCount": 2, "errors": []}
    async with runtime.session_factory() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant))
        )
    assert [(e.action, e.count, e.detail) for e in entries] == [
        ("deleteJobs", 2, {"ids": [], "filter": {"statuses": ["COMPLETED"]}})
    ]
    assert entries[0].actor == "admin-token"


async def test_a_deleted_jobs_subscription_completes_and_counts_follow(
    runtime: Runtime, tenant: str, live_server: LiveServer
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{}, {}])
    job = world.jobs[0]
    async with graphql_ws(live_server.ws_url, TRANSPORT_WS) as client:
        await client.subscribe("u", JOB_UPDATED, id=gid(job.number))
        await client.subscribe("c", COUNTS)
        assert (await client.next("c"))["jobCounts"]["completed"] == 2
        await streams_registered(runtime, 2)

        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            await GraphQLClient(http).execute(DELETE_IDS, ids=[gid(job.number)])

        # the job's subscription ends and the counts follow, in either order
        first, second = await client.receive(), await client.receive()
        by_id = {message["id"]: message for message in (first, second)}
        assert by_id["u"]["type"] == "complete"
        assert by_id["c"]["payload"]["data"]["jobCounts"]["completed"] == 1


async def test_prune_deletes_old_finished_jobs_in_batches(runtime: Runtime, tenant: str) -> None:
    # given old and new jobs, finished and not
    old = BASE_TIME
    new = BASE_TIME + timedelta(days=100)
    specs = [
        {
            "status": status,
            "created_at": at,
            "completed_at": at if status != JobStatus.RUNNING else None,
        }
        for at in (old, new)
        for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.RUNNING) * 3
    ]
    world = await build_world(runtime.session_factory, tenant, specs)
    for job in world.jobs[:2]:
        await add_details(runtime.session_factory, job, steps=1, logs=3)
    deletion = JobDeletion(runtime.session_factory, runtime.bus, runtime.artifacts, batch=4)
    cutoff = BASE_TIME + timedelta(days=50)

    dry = await deletion.prune(before=cutoff, dry_run=True, actor="prune")
    assert dry.per_tenant[tenant] == 6
    assert await counted(runtime, tenant) == {
        JobStatus.RUNNING: 6,
        JobStatus.COMPLETED: 6,
        JobStatus.FAILED: 6,
    }

    report = await deletion.prune(before=cutoff, dry_run=False, actor="prune")

    assert report.per_tenant[tenant] == 6
    assert report.batches >= 2  # six jobs, four a batch (other tenants' old jobs add more)
    assert await counts_table(runtime, tenant) == await counted(runtime, tenant)
    assert await counted(runtime, tenant) == {
        JobStatus.RUNNING: 6,
        JobStatus.COMPLETED: 3,
        JobStatus.FAILED: 3,
    }
    assert await rows_of(runtime, [job.number for job in world.jobs[:2]]) == 0


@pytest.mark.parametrize(
    ("arguments", "says"),
    [(["--older-than", "90x"], "is not an age"), ([], "JOBMONITOR_RETENTION_DAYS")],
)
def test_prune_says_what_is_wrong_with_its_age(
    arguments: list[str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBMONITOR_RETENTION_DAYS", raising=False)
    result = CliRunner().invoke(cli, ["prune", *arguments])
    assert result.exit_code == 2
    assert says in result.output


async def test_the_retention_prunes_on_its_own_and_spares_other_tenants(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    # given an old finished job of this tenant and a new one of another tenant
    await build_world(runtime.session_factory, tenant, [{"completed_at": BASE_TIME}])
    now = datetime.now(UTC)
    theirs = await build_world(
        runtime.session_factory, f"{tenant}-b", [{"created_at": now, "completed_at": now}]
    )

    # when this tenant asks to delete the other tenant's job, it is not found and stays
    refused = (await gql.execute(DELETE_IDS, ids=[gid(theirs.jobs[0].number)]))["deleteJobs"]
    assert refused == {
        "deletedCount": 0,
        "errors": [
            {
                "code": "NOT_FOUND",
                "message": f"job #{theirs.jobs[0].number} does not exist",
                "field": "ids",
            }
        ],
    }

    # and while a retention of a day runs, the old job goes and the new one stays
    async def gone() -> bool:
        return await counted(runtime, tenant) == {}

    async with runtime.deletion.retaining(1, interval=0.05):
        await eventually(gone, 10)
    assert await counted(runtime, f"{tenant}-b") == {JobStatus.COMPLETED: 1}

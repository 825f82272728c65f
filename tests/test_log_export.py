"""Downloading a job's whole log: `Job.logsUrl`, formats, narrowing, tenants, streaming."""

from datetime import timedelta

import httpx
import orjson
import pytest

from server.auth import Role
from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.auth import app_with, bearer, token_for
from tests.support.factories import BASE_TIME, build_world, bulk_log_lines
from tests.support.graphql import GraphQLClient, serving
from tests.support.servers import LiveServer

LOGS_URL = "query($number: Int!) { job(number: $number) { logsUrl } }"
EXPORTED = 100_000


async def test_a_hundred_thousand_lines_stream_out_in_order(
    runtime: Runtime, tenant: str, live_server: LiveServer
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": JobStatus.COMPLETED}])
    job = world.jobs[0]
    await bulk_log_lines(runtime.session_factory, job, EXPORTED)
    chunks = 0
    expected = 1
    rest = b""
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        url = (await GraphQLClient(http).execute(LOGS_URL, number=job.number))["job"]["logsUrl"]
        assert url == f"/jobs/{job.number}/logs"
        response = await http.send(http.build_request("GET", url), stream=True)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert "content-length" not in response.headers  # sent as it is read
        assert response.headers["content-disposition"] == (
            f'attachment; filename="job-{job.number}.jsonl"'
        )
        async for chunk in response.aiter_bytes():
            chunks += 1
            *complete, rest = (rest + chunk).split(b"\n")
            for line in complete:
                record = orjson.loads(line)
                assert record["sequence"] == expected
                assert record["message"] == f"line {expected}"
                expected += 1
        await response.aclose()
    assert rest == b""
    assert expected - 1 == EXPORTED
    assert chunks > 1


async def test_text_narrowed_to_a_stream_and_a_step(
    runtime: Runtime, tenant: str, client: httpx.AsyncClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{"status": JobStatus.FAILED}])
    job = world.jobs[0]
    await bulk_log_lines(runtime.session_factory, job, 60)

    response = await client.get(f"/jobs/{job.number}/logs?format=text&stream=STDERR&step=2")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    # line n is on stream n % 3 (STDERR is 1) and step n % 4: n = 1 mod 3 and 2 mod 4
    numbers = [n for n in range(1, 61) if n % 3 == 1 and n % 4 == 2]
    assert response.text.splitlines() == [
        f"{(BASE_TIME + timedelta(milliseconds=n)).isoformat()} STDERR 2 line {n}" for n in numbers
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [("format=csv", "`format`"), ("stream=STDIN", "`stream`"), ("step=-1", "`step`")],
)
async def test_bad_parameters_are_refused_by_name(
    runtime: Runtime, tenant: str, client: httpx.AsyncClient, query: str, named: str
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{}])

    response = await client.get(f"/jobs/{world.jobs[0].number}/logs?{query}")

    assert response.status_code == 400
    assert named in response.json()["errors"][0]["message"]


async def test_another_tenants_job_is_not_found_and_a_token_is_needed(
    runtime: Runtime, tenant: str
) -> None:
    other = await build_world(runtime.session_factory, f"{tenant}-b", [{}])
    mine = await build_world(runtime.session_factory, tenant, [{}])
    token = await token_for(runtime, Role.VIEWER)
    async with serving(app_with(runtime)) as http:
        theirs = await http.get(f"/jobs/{other.jobs[0].number}/logs", headers=bearer(token))
        missing = await http.get("/jobs/999999999/logs", headers=bearer(token))
        no_token = await http.get(f"/jobs/{mine.jobs[0].number}/logs")
        own = await http.get(f"/jobs/{mine.jobs[0].number}/logs", headers=bearer(token))
    assert (theirs.status_code, missing.status_code) == (404, 404)
    message = theirs.json()["errors"][0]["message"]
    assert message == f"job #{other.jobs[0].number} does not exist"
    assert no_token.status_code == 401
    assert (own.status_code, own.content) == (200, b"")

"""A job that no agent can take fails with a reason instead of hanging."""

import pytest

from .conftest import GraphQLClient
from .temporal_support import status_is, wait_for
from .test_temporal_jobs import Loader, dispatch

pytestmark = pytest.mark.usefixtures("control_plane")


async def test_without_an_online_agent_the_job_fails_saying_so(
    tgql: GraphQLClient, load_workflow: Loader
) -> None:
    await load_workflow("slug: lonely\nsteps: [{name: only, run: 'true'}]")

    number = (await dispatch(tgql, workflow="lonely"))["job"]["number"]

    job = await wait_for(tgql, number, status_is("FAILED", "COMPLETED"))
    assert job["status"] == "FAILED"
    assert job["error"] == "no agent is online to run the job"
    assert [e["toStatus"] for e in job["events"]] == ["PENDING", "FAILED"]

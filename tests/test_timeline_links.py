"""Jobs link to their workflow in Temporal's web UI; actions taken with auth disabled name an
actor."""

from dataclasses import replace

import pytest

from server.app import create_app
from server.db.models import pipeline_id
from server.domain.enums import JobStatus
from server.runtime import Runtime
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient, serving

LINKS = """
query Links($number: Int!) {
  job(number: $number) { temporalWorkflowId temporalUrl }
  jobs(first: 5) { edges { node { number temporalUrl } } }
}
"""
CANCEL = """
mutation Cancel($id: ID!) {
  cancelJob(id: $id) { job { status events { actor } } errors { message } }
}
"""
JOB_ID = "query Id($number: Int!) { job(number: $number) { id } }"


@pytest.mark.parametrize(
    ("ui_url", "namespace"),
    [("http://127.0.0.1:8233", "default"), ("https://temporal.example/ui/", "jobs prod")],
)
async def test_a_job_links_to_its_workflow_in_temporals_web_ui(
    runtime: Runtime, tenant: str, ui_url: str, namespace: str
) -> None:
    # given the UI's address, and jobs with and without a recorded workflow id
    world = await build_world(
        runtime.session_factory,
        tenant,
        [{"temporal_workflow_id": "resent/pipeline-job-7"}, {"temporal_workflow_id": None}],
    )
    recorded, unrecorded = world.jobs
    settings = runtime.settings.model_copy(
        update={"temporal_ui_url": ui_url, "temporal_namespace": namespace}
    )
    async with serving(create_app(runtime=replace(runtime, settings=settings))) as http:
        # when the jobs are read, alone and on a page
        data = await GraphQLClient(http).execute(LINKS, number=recorded.number)
    # then each links to its workflow id's page in the namespace, in the UI's URL format
    base = ui_url.rstrip("/") + "/namespaces/" + namespace.replace(" ", "%20") + "/workflows/"
    assert data["job"]["temporalUrl"] == base + "resent%2Fpipeline-job-7"
    links = {edge["node"]["number"]: edge["node"]["temporalUrl"] for edge in data["jobs"]["edges"]}
    assert links == {
        recorded.number: base + "resent%2Fpipeline-job-7",
        unrecorded.number: base + pipeline_id(unrecorded.number),
    }


async def test_a_job_has_no_temporal_link_without_the_ui_address(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    world = await build_world(runtime.session_factory, tenant, [{}])
    assert runtime.settings.temporal_ui_url is None

    data = await gql.execute(LINKS, number=world.jobs[0].number)

    assert data["job"]["temporalUrl"] is None
    assert [edge["node"]["temporalUrl"] for edge in data["jobs"]["edges"]] == [None]


async def test_an_action_taken_with_auth_disabled_records_the_local_actor(
    runtime: Runtime, tenant: str, gql: GraphQLClient
) -> None:
    # given auth disabled, and a running job
    world = await build_world(runtime.session_factory, tenant, [{"status": JobStatus.RUNNING}])
    job_id = (await gql.execute(JOB_ID, number=world.jobs[0].number))["job"]["id"]
    # when it is cancelled
    payload = (await gql.execute(CANCEL, id=job_id))["cancelJob"]
    # then its event names the local actor
    assert payload["errors"] == []
    assert payload["job"]["events"][-1]["actor"] == "local"

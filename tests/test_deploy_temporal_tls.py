"""A secured Temporal: every process connects with TLS settings (a CA, a client certificate
and key, the server's name) and/or an API key. Tested through a proxy that terminates mutual
TLS in front of the dev server: a job runs through it end to end, a client without the right
certificate is refused, and a setting that cannot work stops a process at start with a line
that names the setting and never prints the key."""

import os
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr

from server.app import create_app
from server.runtime import Runtime
from server.settings import Settings, StartupError
from server.temporal.agent import AgentIdentity
from server.temporal.client import connect, connect_checked
from server.temporal.orchestrator import TemporalOrchestrator
from server.workflows.store import load_workflow_files
from tests.support.graphql import GraphQLClient, serving
from tests.support.mutations import dispatch
from tests.support.processes import run_cli
from tests.support.temporal import status_is, wait_for
from tests.support.tls_proxy import Certificates, MutualTlsProxy, secured_settings

HELLO = Path(__file__).resolve().parent.parent / "examples" / "workflows" / "hello.yaml"
API_KEY = "tk-" + uuid.uuid4().hex


@pytest.mark.usefixtures("on_postgresql")
async def test_a_job_dispatched_through_mutual_tls_runs_to_completion(
    runtime: Runtime,
    tenant: str,
    tmp_path: Path,
    secured_temporal: MutualTlsProxy,
    certificates: Certificates,
) -> None:
    # given the API, a worker and an agent that all reach Temporal through mutual TLS only
    settings = secured_settings(runtime.settings, secured_temporal, certificates).model_copy(
        update={
            "temporal_task_queue": f"jobs-{uuid.uuid4().hex[:8]}",
            "workspace_root": tmp_path,
            "outbox_interval_seconds": 0.2,
            "temporal_api_key": SecretStr(API_KEY),
        }
    )
    secured = runtime.with_orchestrator(TemporalOrchestrator(settings), settings)
    await load_workflow_files(runtime.session_factory, tenant=tenant, paths=[HELLO])
    client = await connect(settings, identity="worker")
    identity = AgentIdentity(tenant, "tls-agent", None, settings.temporal_task_queue, tmp_path)
    async with (
        secured.running_worker(client, outbox_tenant=tenant),
        secured.running_agent(client, identity),
        serving(create_app(runtime=secured)) as http,
    ):
        gql = GraphQLClient(http)

        # when a job is dispatched through the API
        number = (await dispatch(gql, workflow="hello", input={"name": "tls"}))["job"]["number"]

        # then it runs on the agent and completes, and the API is ready (Temporal answers)
        job = await wait_for(gql, number, status_is("COMPLETED", "FAILED"), within=30)
        ready = (await http.get("/readyz")).json()
    assert (job["status"], job["output"]) == ("COMPLETED", {"greeted": "tls"})
    assert ready["checks"]["temporal"] == "ok"


@pytest.mark.parametrize("client_certificate", ["none", "another CA's"])
async def test_a_client_without_the_right_certificate_is_refused_at_start(
    secured_temporal: MutualTlsProxy, certificates: Certificates, client_certificate: str
) -> None:
    settings = secured_settings(Settings(_env_file=None), secured_temporal, certificates)  # type: ignore[call-arg]
    if client_certificate == "none":
        settings = settings.model_copy(update={"temporal_tls_cert": None, "temporal_tls_key": None})
    else:
        settings = settings.model_copy(
            update={
                "temporal_tls_cert": certificates.stranger_cert,
                "temporal_tls_key": certificates.stranger_key,
            }
        )

    with pytest.raises(StartupError) as refused:
        await connect_checked(settings, identity="tests")

    assert str(refused.value).startswith(f"Temporal at {secured_temporal.address} refused")
    assert "JOBMONITOR_TEMPORAL_TLS_CERT" in str(refused.value)


async def test_a_client_that_does_not_trust_the_server_is_refused_without_printing_the_key(
    secured_temporal: MutualTlsProxy, certificates: Certificates
) -> None:
    settings = secured_settings(Settings(_env_file=None), secured_temporal, certificates)  # type: ignore[call-arg]
    settings = settings.model_copy(
        update={"temporal_tls_ca": None, "temporal_api_key": SecretStr(API_KEY)}
    )

    with pytest.raises(StartupError) as refused:
        await connect_checked(settings, identity="tests")

    assert "UnknownIssuer" in str(refused.value)
    assert API_KEY not in str(refused.value)


@pytest.fixture
def process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean JOBMONITOR_ environment with a migrated database and a Temporal address."""
    for name in [name for name in os.environ if name.startswith("JOBMONITOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("JOBMONITOR_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    assert run_cli(monkeypatch, "migrate") == 0
    return tmp_path


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {
                "JOBMONITOR_TEMPORAL_TLS_CERT": "/nonexistent/client.pem",
                "JOBMONITOR_TEMPORAL_TLS_KEY": "/nonexistent/client.key",
            },
            "error: JOBMONITOR_TEMPORAL_TLS_CERT: cannot read /nonexistent/client.pem: "
            "No such file or directory",
        ),
        (
            {"JOBMONITOR_TEMPORAL_TLS_CA": "{folder}"},
            "error: JOBMONITOR_TEMPORAL_TLS_CA: cannot read {folder}: Is a directory",
        ),
        (
            {"JOBMONITOR_TEMPORAL_API_KEY_FILE": "/nonexistent/key"},
            "error: JOBMONITOR_TEMPORAL_API_KEY_FILE: cannot read /nonexistent/key: "
            "No such file or directory",
        ),
    ],
)
@pytest.mark.parametrize(
    "command", [["serve"], ["worker"], ["agent", "--name", "a-1"], ["reconcile"]]
)
def test_a_setting_that_cannot_work_stops_every_process_at_start_naming_it(
    process_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    variables: dict[str, str],
    message: str,
) -> None:
    if "JOBMONITOR_TEMPORAL_API_KEY_FILE" not in variables:
        monkeypatch.setenv("JOBMONITOR_TEMPORAL_API_KEY", API_KEY)
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value.format(folder=process_environment))

    code = run_cli(monkeypatch, *command)

    error = capsys.readouterr().err
    assert code == 2
    assert error == message.format(folder=process_environment) + "\n"
    assert API_KEY not in error

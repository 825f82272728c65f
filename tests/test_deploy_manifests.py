"""The Kubernetes manifests and the Dockerfile name only commands and settings that exist (the
processes they start are tested as plain processes in tests/test_deploy_topology.py)."""

from pathlib import Path
from typing import Any

import yaml

from server import cli
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
PREFIX = "JOBMONITOR_"


def _documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def _containers() -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = []
    for document in _documents():
        spec = document.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        containers += pod.get("containers", [])
    return containers


def _commands() -> set[str]:
    return {command.name for command in cli.app.registered_commands if command.name} | {
        command.callback.__name__
        for command in cli.app.registered_commands
        if command.name is None and command.callback is not None
    }


def test_every_container_runs_a_jobmonitor_command() -> None:
    runs = {container["args"][0] for container in _containers()}

    assert runs == {"migrate", "serve", "worker", "agent"}
    assert runs <= _commands()


def test_every_setting_the_manifests_name_is_a_setting() -> None:
    names = {
        name
        for document in _documents()
        if document["kind"] == "ConfigMap"
        for name in document["data"]
    } | {
        variable["name"]
        for container in _containers()
        for variable in container.get("env", [])
        if variable["name"].startswith(PREFIX)
    }

    fields = {PREFIX + field.upper() for field in Settings.model_fields}
    assert names
    assert names <= fields, names - fields


def test_the_dockerfile_starts_the_api_by_default() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert 'ENTRYPOINT ["jobmonitor"]' in dockerfile
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile

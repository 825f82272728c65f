"""Workflow files: the YAML format, its errors, and `jobmonitor workflows load`."""

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from server.cli import app
from server.db.models import Workflow
from server.runtime import Runtime
from server.workflows.definition import DefinitionError, default_display_name, parse_workflow
from server.workflows.files import WorkflowFileError, read_workflows
from server.workflows.store import load_workflow_files

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "workflows"


def test_every_example_parses_and_together_they_show_every_feature() -> None:
    definitions = read_workflows([EXAMPLES])

    steps = [step for definition in definitions for step in definition.steps]
    assert {"hello", "se-rca-fix", "flaky-then-fail", "wait-for-approval"} <= {
        definition.slug for definition in definitions
    }
    assert any(step.approval for step in steps)
    assert any(step.retries for step in steps)
    assert any(step.timeout_seconds for step in steps)
    assert any(definition.aliases for definition in definitions)
    assert any(definition.input_schema for definition in definitions)


@pytest.mark.parametrize(
    ("slug", "display_name"),
    [
        ("se-rca-fix", "SE Rca Fix"),
        ("code_review", "Code Review"),
        ("ci-api-check", "CI API Check"),
    ],
)
def test_the_display_name_defaults_to_title_case(slug: str, display_name: str) -> None:
    assert default_display_name(slug) == display_name


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"steps": [{"name": "a"}]}, "slug: must be"),
        ({"slug": "x", "steps": []}, "steps: must be a non-empty list"),
        ({"slug": "x", "steps": [{"name": "a", "retries": -1}]}, "steps[0].retries: must be"),
        ({"slug": "x", "steps": [{"name": "a"}, {"name": "a"}]}, "repeated: ['a']"),
        ({"slug": "x", "steps": [{"name": "a", "runs": "ls"}]}, "steps[0].runs: unknown key"),
        ({"slug": "x", "steps": [{"name": "a", "run": "ls", "approval": True}]}, "no `run`"),
        ({"slug": "x", "steps": [{"name": "a", "timeout_seconds": 0}]}, "more than 0"),
        ({"slug": "x", "input_schema": {"type": 3}, "steps": [{"name": "a"}]}, "input_schema:"),
    ],
)
def test_an_invalid_document_is_refused_naming_the_place(
    document: dict[str, object], message: str
) -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_workflow(document)
    assert message in str(raised.value)


def test_an_invalid_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("slug: good\nsteps: [{name: a, run: 'true'}]\n")
    (tmp_path / "bad.yml").write_text("slug: bad\nsteps:\n  - name: a\n    run: echo {a: b\n")

    with pytest.raises(WorkflowFileError) as raised:
        read_workflows([tmp_path])

    assert str(raised.value).startswith(f"{tmp_path / 'bad.yml'}: not valid YAML")


async def test_loading_again_updates_the_workflow(
    runtime: Runtime, tenant: str, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("slug: flow\nsteps: [{name: a, run: 'true'}]\n")
    await load_workflow_files(runtime.session_factory, tenant=tenant, paths=[path])
    path.write_text("slug: flow\ndisplay_name: Flow Two\nsteps: [{name: a}, {name: b}]\n")

    await load_workflow_files(runtime.session_factory, tenant=tenant, paths=[path])

    async with runtime.session_factory() as session:
        rows = list(await session.scalars(select(Workflow).where(Workflow.tenant_id == tenant)))
    assert [(row.slug, row.display_name) for row in rows] == [("flow", "Flow Two")]
    assert [step["name"] for step in (rows[0].definition or {})["steps"]] == ["a", "b"]


def test_the_load_command_loads_a_folder(
    runtime: Runtime, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", runtime.settings.database_url)

    result = CliRunner().invoke(app, ["workflows", "load", str(EXAMPLES), "--tenant", tenant])

    assert result.exit_code == 0, result.output
    assert "loaded se-rca-fix (4 steps)" in result.output


def test_the_load_command_refuses_an_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("slug: Bad Slug\nsteps: [{name: a}]\n")

    result = CliRunner().invoke(app, ["workflows", "load", str(tmp_path)])

    assert result.exit_code == 1
    assert "slug: must be lower-case" in result.output

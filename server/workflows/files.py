"""Reading workflow files: one YAML file, or every `*.yaml`/`*.yml` file in a folder."""

from collections.abc import Iterable
from pathlib import Path

import yaml

from .definition import DefinitionError, WorkflowDefinition, parse_workflow

SUFFIXES = (".yaml", ".yml")


class WorkflowFileError(ValueError):
    """A file that cannot be loaded; the message names the file and the place in it."""


def workflow_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise WorkflowFileError(f"{path}: no such file or folder")
    return found


def read_workflow(path: Path) -> WorkflowDefinition:
    try:
        text = path.read_text(encoding="utf-8")
        return parse_workflow(yaml.safe_load(text), source=text)
    except yaml.YAMLError as error:
        raise WorkflowFileError(f"{path}: not valid YAML: {error}") from None
    except DefinitionError as error:
        raise WorkflowFileError(f"{path}: {error}") from None


def read_workflows(paths: Iterable[Path]) -> list[WorkflowDefinition]:
    """Every workflow under `paths`, all checked before any is stored; slugs must not repeat."""
    definitions = [read_workflow(path) for path in workflow_files(paths)]
    slugs = [definition.slug for definition in definitions]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise WorkflowFileError(f"the same slug is defined more than once: {repeated}")
    return definitions

"""Reading automation files: YAML documents with an `automations:` list."""

from collections.abc import Iterable
from pathlib import Path

import yaml

from server.domain.automations import AutomationDefinition, AutomationError, parse_automations

from .files import WorkflowFileError, workflow_files


def read_automations(paths: Iterable[Path]) -> list[AutomationDefinition]:
    """Every automation under `paths`, all checked before any is stored; names must not repeat."""
    found: list[AutomationDefinition] = []
    for path in workflow_files(paths):
        try:
            found += parse_automations(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as error:
            raise WorkflowFileError(f"{path}: not valid YAML: {error}") from None
        except AutomationError as error:
            raise WorkflowFileError(f"{path}: {error}") from None
    names = [automation.name for automation in found]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise WorkflowFileError(f"the same automation name is defined more than once: {repeated}")
    return found

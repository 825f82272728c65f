"""The workflow file format: parsed and checked before anything is stored.

Errors name the place in the document that is wrong (`steps[1].retries: ...`), because people
write these files by hand.
"""

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from server.domain.chains import ANY_AGENT, FROM_OUTPUT, FollowUpRule
from server.domain.definition import EFFORT_LEVELS, EffortDefinition
from server.domain.enums import JobStatus
from server.domain.rules import FINAL_STATUSES

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Effort value names become JOB_EFFORT_<NAME> variables.
EFFORT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DEFAULT_BACKOFF_SECONDS = 5.0
_STEP_KEYS = {"name", "run", "retries", "timeout_seconds", "backoff_seconds", "approval"}
_WORKFLOW_KEYS = {
    "slug",
    "display_name",
    "aliases",
    "input_schema",
    "effort",
    "queue_timeout_seconds",
    "steps",
    "notify",
    "follow_ups",
}
_NOTIFY_KEYS = {"target", "on"}
_EFFORT_KEYS = {"default", "levels"}
_FOLLOW_UP_KEYS = {"workflow", "when", "agent", "input"}
# Words that read better in capitals than in Title Case in a display name.
_ACRONYMS = {"se", "ci", "cd", "qa", "pr", "api", "db", "ui", "sre"}


class DefinitionError(ValueError):
    """A workflow document that is not valid; the message starts with where."""


@dataclass(frozen=True)
class StepDefinition:
    name: str
    run: str | None = None
    retries: int = 0
    timeout_seconds: float | None = None
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS
    approval: bool = False


@dataclass(frozen=True)
class NotifyRule:
    """Tell the target (by its configured name) when a job of the workflow reaches a status."""

    target: str
    on: tuple[JobStatus, ...]


@dataclass(frozen=True)
class WorkflowDefinition:
    slug: str
    display_name: str
    aliases: tuple[str, ...] = ()
    input_schema: dict[str, Any] | None = None
    steps: tuple[StepDefinition, ...] = field(default=())
    notify: tuple[NotifyRule, ...] = ()
    effort: EffortDefinition | None = None
    queue_timeout_seconds: float | None = None
    source: str | None = None
    """The YAML text, when read from a file."""
    follow_ups: tuple[FollowUpRule, ...] = ()

    def stored_definition(self) -> dict[str, Any]:
        """What goes into `workflows.definition` (the rest has columns of its own)."""
        stored: dict[str, Any] = {
            "steps": [asdict(step) for step in self.steps],
            "notify": [{"target": rule.target, "on": list(rule.on)} for rule in self.notify],
            "effort": asdict(self.effort) if self.effort is not None else None,
            "queue_timeout_seconds": self.queue_timeout_seconds,
        }
        if self.follow_ups:
            stored["follow_ups"] = [rule.stored() for rule in self.follow_ups]
        return stored


def default_display_name(slug: str) -> str:
    """`se-rca-fix` becomes `SE Rca Fix`."""
    words = re.split(r"[-_]+", slug)
    return " ".join(word.upper() if word in _ACRONYMS else word.capitalize() for word in words)


def parse_workflow(document: Any, *, source: str | None = None) -> WorkflowDefinition:
    if not isinstance(document, dict):
        raise DefinitionError("the document must be a mapping with slug and steps")
    _no_unknown_keys(document, _WORKFLOW_KEYS, "")
    slug = document.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise DefinitionError("slug: must be lower-case letters, digits, '-' or '_'")
    display_name = document.get("display_name") or default_display_name(slug)
    if not isinstance(display_name, str):
        raise DefinitionError("display_name: must be a string")
    return WorkflowDefinition(
        slug=slug,
        display_name=display_name,
        aliases=_aliases(document.get("aliases")),
        input_schema=_input_schema(document.get("input_schema")),
        steps=_steps(document.get("steps")),
        notify=_notify(document.get("notify")),
        effort=_effort(document.get("effort")),
        queue_timeout_seconds=_optional_number(document, "queue_timeout_seconds", ""),
        source=source,
        follow_ups=_follow_ups(document.get("follow_ups")),
    )


def parse_steps(stored: dict[str, Any] | None) -> tuple[StepDefinition, ...]:
    """The steps of a stored definition (rows loaded from YAML, or older name-only rows)."""
    return _steps((stored or {}).get("steps") or [], allow_empty=True)


def _notify(value: Any) -> tuple[NotifyRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DefinitionError("notify: must be a list of {target, on}")
    return tuple(_notify_rule(item, f"notify[{index}]") for index, item in enumerate(value))


def _notify_rule(item: Any, where: str) -> NotifyRule:
    if not isinstance(item, dict):
        raise DefinitionError(f"{where}: must be a mapping with target and on")
    _no_unknown_keys(item, _NOTIFY_KEYS, f"{where}.")
    target, on = item.get("target"), item.get("on")
    if not isinstance(target, str) or not target:
        raise DefinitionError(f"{where}.target: must be the name of a configured target")
    if (
        not isinstance(on, list)
        or not on
        or not all(status in JobStatus.__members__ for status in on)
    ):
        raise DefinitionError(f"{where}.on: must list job statuses, e.g. [FAILED, WAITING]")
    return NotifyRule(target=target, on=tuple(JobStatus(status) for status in on))


def _aliases(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(alias, str) for alias in value):
        raise DefinitionError("aliases: must be a list of strings")
    return tuple(value)


def _effort(value: Any) -> EffortDefinition | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DefinitionError("effort: must be a mapping with levels (and a default)")
    _no_unknown_keys(value, _EFFORT_KEYS, "effort.")
    levels = value.get("levels")
    known = ", ".join(EFFORT_LEVELS)
    if not isinstance(levels, dict) or not levels:
        raise DefinitionError(f"effort.levels: must map levels ({known}) to values")
    parsed: dict[str, dict[str, str]] = {}
    for level, values in levels.items():
        where = f"effort.levels.{level}"
        if level not in EFFORT_LEVELS:
            raise DefinitionError(f"{where}: not a level ({known})")
        if not isinstance(values, dict):
            raise DefinitionError(f"{where}: must map names to values")
        parsed[level] = {
            _effort_name(name, where): _scalar(item, f"{where}.{name}")
            for name, item in values.items()
        }
    default = value.get("default")
    if default is not None and default not in parsed:
        raise DefinitionError(f"effort.default: {default!r} is not one of {sorted(parsed)}")
    return EffortDefinition(default=default, levels=parsed)


def _effort_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not EFFORT_NAME.match(name):
        raise DefinitionError(f"{where}.{name}: names are letters, digits and '_'")
    return name.upper()


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise DefinitionError(f"{where}: must be a string or a number")


def _input_schema(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DefinitionError("input_schema: must be a JSON Schema object")
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as error:
        raise DefinitionError(f"input_schema: {error.message}") from None
    return value


def _steps(value: Any, *, allow_empty: bool = False) -> tuple[StepDefinition, ...]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise DefinitionError("steps: must be a non-empty list")
    steps = tuple(_step(item, f"steps[{index}]") for index, item in enumerate(value))
    names = [step.name for step in steps]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DefinitionError(f"steps: step names must be unique, repeated: {duplicates}")
    return steps


def _step(item: Any, where: str) -> StepDefinition:
    if not isinstance(item, dict):
        raise DefinitionError(f"{where}: must be a mapping with a name")
    _no_unknown_keys(item, _STEP_KEYS, f"{where}.")
    name, run, approval = item.get("name"), item.get("run"), bool(item.get("approval", False))
    if not isinstance(name, str) or not name:
        raise DefinitionError(f"{where}.name: must be a non-empty string")
    if run is not None and not isinstance(run, str):
        raise DefinitionError(f"{where}.run: must be a shell command (a string)")
    if approval and run is not None:
        raise DefinitionError(f"{where}: an approval step has no `run`")
    return StepDefinition(
        name=name,
        run=run,
        retries=_count(item, "retries", where),
        timeout_seconds=_optional_number(item, "timeout_seconds", where),
        backoff_seconds=_number(item, "backoff_seconds", where, default=DEFAULT_BACKOFF_SECONDS),
        approval=approval,
    )


def _number(item: dict[str, Any], key: str, where: str, *, default: float) -> float:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise DefinitionError(f"{_place(where, key)}: must be a number >= 0")
    return float(value)


def _place(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _count(item: dict[str, Any], key: str, where: str) -> int:
    value = item.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DefinitionError(f"{where}.{key}: must be a whole number >= 0")
    return value


def _optional_number(item: dict[str, Any], key: str, where: str) -> float | None:
    if item.get(key) is None:
        return None
    value = _number(item, key, where, default=0.0)
    if value == 0:
        raise DefinitionError(f"{_place(where, key)}: must be more than 0")
    return value


def _follow_ups(value: Any) -> tuple[FollowUpRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DefinitionError("follow_ups: must be a list of {workflow, when, agent, input}")
    return tuple(_follow_up(item, f"follow_ups[{index}]") for index, item in enumerate(value))


def _follow_up(item: Any, where: str) -> FollowUpRule:
    if not isinstance(item, dict):
        raise DefinitionError(f"{where}: must be a mapping with a workflow")
    _no_unknown_keys(item, _FOLLOW_UP_KEYS, f"{where}.")
    workflow, agent = item.get("workflow"), item.get("agent", ANY_AGENT)
    if not isinstance(workflow, str) or not workflow:
        raise DefinitionError(f"{where}.workflow: must be a workflow slug")
    if not isinstance(agent, str) or not agent:
        raise DefinitionError(f"{where}.agent: must be 'same', 'any' or an agent's name")
    when = item.get("when", [JobStatus.COMPLETED.value])
    ends = sorted(status.value for status in FINAL_STATUSES)
    if not isinstance(when, list) or not when or any(status not in ends for status in when):
        raise DefinitionError(f"{where}.when: must be a non-empty list of {ends}")
    given = item.get("input", {})
    if not isinstance(given, dict):
        raise DefinitionError(f"{where}.input: must be a mapping")
    if not isinstance(given.get(FROM_OUTPUT, False), bool):
        raise DefinitionError(f"{where}.input.{FROM_OUTPUT}: must be true or false")
    return FollowUpRule.from_stored(
        {"workflow": workflow, "when": when, "agent": agent, "input": given}
    )


def _no_unknown_keys(item: dict[str, Any], known: set[str], prefix: str) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise DefinitionError(f"{prefix}{unknown[0]}: unknown key (known: {sorted(known)})")

"""The automation file format and what a rule makes of a webhook payload.

An automation names its webhook source, the payload values it matches, the workflow it
dispatches and how the job's input and trigger are read from the payload (dotted JSON paths,
`issue.fields.status.name`). The `jira` source reads the trigger from Jira's webhook fields
itself; any other source is generic and reads it through the rule's `trigger` paths.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from .dispatch import DispatchRequest
from .enums import DispatchSource, EffortLevel

JIRA = "jira"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TRIGGER_FIELDS = ("ticket_url", "project", "assignee", "status", "issue_key", "issue_type")
_KEYS = {"name", "source", "workflow", "agent", "effort", "enabled", "match", "input", "trigger"}


class AutomationError(ValueError):
    """An automation document that is not valid; the message starts with where."""


@dataclass(frozen=True)
class AutomationDefinition:
    name: str
    source: str
    workflow: str
    agent: str | None = None
    effort: EffortLevel | None = None
    enabled: bool = True
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)
    input: dict[str, str] = field(default_factory=dict)
    trigger: dict[str, str] = field(default_factory=dict)

    def stored_rule(self) -> dict[str, Any]:
        """What goes into `automations.rule` (the rest has its own columns)."""
        return {
            "agent": self.agent,
            "effort": self.effort.value if self.effort else None,
            "match": {path: list(values) for path, values in self.match.items()},
            "input": self.input,
            "trigger": self.trigger,
        }

    @classmethod
    def from_stored(
        cls, *, name: str, source: str, workflow: str, rule: dict[str, Any]
    ) -> "AutomationDefinition":
        effort = rule.get("effort")
        return cls(
            name=name,
            source=source,
            workflow=workflow,
            agent=rule.get("agent"),
            effort=EffortLevel(effort) if effort else None,
            match={path: tuple(values) for path, values in (rule.get("match") or {}).items()},
            input=dict(rule.get("input") or {}),
            trigger=dict(rule.get("trigger") or {}),
        )

    def matches(self, payload: dict[str, Any]) -> bool:
        """Every `match` path holds one of its values (compared as text)."""
        return all(_text(value_at(payload, path)) in values for path, values in self.match.items())

    def request(
        self, payload: dict[str, Any], *, automation_id: int, idempotency_key: str
    ) -> DispatchRequest:
        """The dispatch this payload asks for: input from the rule's paths, the trigger as the
        input's `trigger_*` variables, the hint naming the webhook event."""
        trigger = jira_trigger(payload) if self.source == JIRA else self._generic_trigger(payload)
        variables = {name: value_at(payload, path) for name, path in self.input.items()}
        variables.update({f"trigger_{name}": value for name, value in trigger.items() if value})
        event = payload.get("webhookEvent") if self.source == JIRA else None
        return DispatchRequest(
            workflow=self.workflow,
            agent=self.agent,
            effort_level=self.effort,
            ticket_url=trigger.get("ticket_url"),
            ticket_key=trigger.get("issue_key"),
            hint=f"Jira webhook: {event}" if event else f"{self.source} webhook: {self.name}",
            input={name: value for name, value in variables.items() if value is not None},
            idempotency_key=idempotency_key,
            automation_id=automation_id,
            source=DispatchSource.AUTOMATION,
        )

    def _generic_trigger(self, payload: dict[str, Any]) -> dict[str, str | None]:
        return {name: _text(value_at(payload, path)) for name, path in self.trigger.items()}


def jira_trigger(payload: dict[str, Any]) -> dict[str, str | None]:
    """The trigger of Jira's issue webhook: key, project, assignee, status, type, browse URL."""
    key = _text(value_at(payload, "issue.key"))
    return {
        "ticket_url": _browse_url(_text(value_at(payload, "issue.self")), key),
        "project": _text(value_at(payload, "issue.fields.project.key")),
        "assignee": _text(value_at(payload, "issue.fields.assignee.accountId")),
        "status": _text(value_at(payload, "issue.fields.status.name")),
        "issue_key": key,
        "issue_type": _text(value_at(payload, "issue.fields.issuetype.name")),
    }


def event_key(source: str, payload: dict[str, Any]) -> str | None:
    """What identifies a Jira delivery without an id: the issue key and the event."""
    if source != JIRA:
        return None
    key = _text(value_at(payload, "issue.key"))
    event = _text(payload.get("webhookEvent"))
    return f"{key}:{event}" if key and event else None


def value_at(document: Any, path: str) -> Any:
    """The value at a dotted path (`issue.fields.status.name`), None where it is missing."""
    for part in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def _browse_url(api_url: str | None, key: str | None) -> str | None:
    """Jira's `issue.self` is the REST URL; people open `{site}/browse/{key}`."""
    if not api_url or not key:
        return None
    site = api_url.split("/rest/", 1)[0]
    return f"{site}/browse/{key}"


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, dict | list) else str(value)


def parse_automations(document: Any) -> list[AutomationDefinition]:
    if not isinstance(document, dict) or not isinstance(document.get("automations"), list):
        raise AutomationError("the document must be a mapping with an `automations` list")
    parsed = [
        _automation(item, f"automations[{i}]") for i, item in enumerate(document["automations"])
    ]
    names = [automation.name for automation in parsed]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AutomationError(f"the same name is defined more than once: {repeated}")
    return parsed


def _automation(item: Any, where: str) -> AutomationDefinition:
    if not isinstance(item, dict):
        raise AutomationError(f"{where}: must be a mapping")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise AutomationError(f"{where}: unknown keys {unknown}")
    name, source, workflow = (_required(item, key, where) for key in ("name", "source", "workflow"))
    if not NAME.match(name):
        raise AutomationError(f"{where}.name: must be lower-case letters, digits, '-' or '_'")
    effort = item.get("effort")
    if effort is not None and effort not in EffortLevel.__members__:
        raise AutomationError(f"{where}.effort: one of {list(EffortLevel.__members__)}")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise AutomationError(f"{where}.enabled: must be true or false")
    trigger = _paths(item.get("trigger"), f"{where}.trigger")
    unknown_trigger = sorted(set(trigger) - set(TRIGGER_FIELDS))
    if unknown_trigger:
        raise AutomationError(f"{where}.trigger: unknown fields {unknown_trigger}")
    agent = item.get("agent")
    if agent is not None and not isinstance(agent, str):
        raise AutomationError(f"{where}.agent: must be a string")
    return AutomationDefinition(
        name=name,
        source=source,
        workflow=workflow,
        agent=agent,
        effort=EffortLevel(effort) if effort else None,
        enabled=enabled,
        match=_match(item.get("match"), f"{where}.match"),
        input=_paths(item.get("input"), f"{where}.input"),
        trigger=trigger,
    )


def _required(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise AutomationError(f"{where}.{key}: required, a string")
    return value


def _match(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AutomationError(f"{where}: must map JSON paths to a value or a list of values")
    return {
        str(path): tuple(str(v) for v in (wanted if isinstance(wanted, list) else [wanted]))
        for path, wanted in value.items()
    }


def _paths(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(p, str) for p in value.values()):
        raise AutomationError(f"{where}: must map names to JSON paths")
    return {str(name): path for name, path in value.items()}

"""What a job keeps of its workflow's definition: the definition frozen at creation, and the
parts of it the services read (the effort mapping, the queue timeout).

Plain data over the stored form (`workflows.definition`); the file format and its checks are
in `server.workflows.definition`.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .enums import EffortLevel

EFFORT_LEVELS = tuple(level.value for level in EffortLevel)


@dataclass(frozen=True)
class EffortDefinition:
    """What each effort level means for the workflow: `levels[LEVEL]` maps value names (upper
    case) to strings; `default` is the level of a dispatch that names none."""

    default: str | None
    levels: dict[str, dict[str, str]]


def frozen_definition(stored: dict[str, Any] | None, source: str | None) -> dict[str, Any]:
    """The definition a job keeps for life: the stored definition, its YAML text and a content
    hash of both as its `version`."""
    content = {"source": source, **(stored or {"steps": []})}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
    return {"version": digest[:16], **content}


def stored_effort(stored: dict[str, Any] | None) -> EffortDefinition | None:
    effort = (stored or {}).get("effort")
    if not isinstance(effort, dict):
        return None
    return EffortDefinition(default=effort.get("default"), levels=dict(effort.get("levels") or {}))


def queue_timeout(stored: dict[str, Any] | None) -> float | None:
    value = (stored or {}).get("queue_timeout_seconds")
    return float(value) if isinstance(value, int | float) else None

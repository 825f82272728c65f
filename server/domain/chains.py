"""Chains: a workflow's `follow_ups` start other jobs when one of its jobs ends.

A rule names the workflow to start, the end statuses that start it, the agent (the parent's,
any, or a named one) and the input (fixed values, over the parent's output with `from_output`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .enums import JobStatus

MAX_CHAIN_DEPTH = 20
SAME_AGENT = "same"
ANY_AGENT = "any"
FROM_OUTPUT = "from_output"


@dataclass(frozen=True)
class FollowUpRule:
    workflow: str
    when: tuple[JobStatus, ...] = (JobStatus.COMPLETED,)
    agent: str = ANY_AGENT
    """`same` (the parent's agent), `any`, or an agent's name."""
    input: dict[str, Any] = field(default_factory=dict)
    from_output: bool = False

    def stored(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "when": [status.value for status in self.when],
            "agent": self.agent,
            "input": {FROM_OUTPUT: True, **self.input} if self.from_output else self.input,
        }

    @classmethod
    def from_stored(cls, item: Mapping[str, Any]) -> "FollowUpRule":
        given = dict(item.get("input") or {})
        from_output = bool(given.pop(FROM_OUTPUT, False))
        return cls(
            workflow=str(item["workflow"]),
            when=tuple(JobStatus(status) for status in item.get("when") or ("COMPLETED",)),
            agent=str(item.get("agent") or ANY_AGENT),
            input=given,
            from_output=from_output,
        )

    def input_for(self, parent_output: Any) -> dict[str, Any]:
        """The rule's input, over the parent's output when that is an object and asked for."""
        inherited = parent_output if self.from_output and isinstance(parent_output, dict) else {}
        return {**inherited, **self.input}

    def agent_for(self, parent_agent: str | None) -> str | None:
        """The agent name to dispatch to; None lets the system pick."""
        if self.agent == SAME_AGENT:
            return parent_agent
        return None if self.agent == ANY_AGENT else self.agent


def follow_up_rules(definition: Mapping[str, Any] | None) -> list[FollowUpRule]:
    """The rules of a stored workflow definition."""
    return [FollowUpRule.from_stored(item) for item in (definition or {}).get("follow_ups") or ()]


def chain_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A path that comes back to where it started (`[a, b, a]`), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for target in edges.get(node, ()):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target, [*path, target])
                if found is not None:
                    return found
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [start])
            if found is not None:
                return found
    return None

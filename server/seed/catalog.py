"""The fixed cast of the demo data: workflows, agents, people, trackers and their wording.

Workflows and agents depend only on their position, never on the seed, so seeding a
tenant again with any seed finds and reuses the same rows by slug or name.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count, product
from typing import Any

from server.domain.enums import AgentStatus

ACRONYMS = frozenset({"se", "qa", "ci", "pr", "api"})

TICKET_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ticket_url"],
    "properties": {
        "ticket_url": {"type": "string", "format": "uri"},
        "hint": {"type": "string"},
    },
}

_NAMED_WORKFLOWS: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    # slug, needs a ticket, steps
    (
        "se-rca-fix",
        True,
        ("fetch-ticket", "reproduce", "root-cause-analysis", "write-fix", "run-tests", "open-pr"),
    ),
    ("bug-triage", True, ("fetch-ticket", "classify", "find-duplicates", "assign-owner")),
    ("code-review", False, ("checkout", "static-analysis", "review-diff", "post-comments")),
    ("dependency-upgrade", False, ("scan-manifests", "bump-versions", "run-tests", "open-pr")),
    ("release-notes", False, ("collect-commits", "draft-notes")),
    ("incident-summary", True, ("collect-timeline", "gather-metrics", "draft-summary")),
    ("qa-regression-sweep", False, ("select-suites", "run-suites", "compare-baseline")),
    ("ci-flake-hunter", False, ("collect-failures", "rerun-tests", "quarantine", "report")),
    ("pr-description", False, ("read-diff", "draft-description")),
    ("api-docs-sync", True, ("extract-schema", "diff-docs", "update-docs", "open-pr")),
    ("security-audit", False, ("scan-dependencies", "scan-secrets", "triage-findings")),
    ("test-generation", True, ("analyse-coverage", "generate-tests", "run-tests", "open-pr")),
)
_VERBS = ("sync", "audit", "triage", "summarize", "migrate", "validate", "refresh", "archive")
_NOUNS = ("feature-flags", "ci-cache", "qa-matrix", "api-keys", "pr-backlog", "sla-report")
_GENERIC_STEPS = ("prepare", "analyse", "execute", "verify", "report", "clean-up")

_AGENT_STATUSES = (
    AgentStatus.BUSY,
    AgentStatus.ONLINE,
    AgentStatus.BUSY,
    AgentStatus.OFFLINE,
    AgentStatus.ONLINE,
    AgentStatus.BUSY,
    AgentStatus.ONLINE,
    AgentStatus.OFFLINE,
)
_REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")

PEOPLE = (
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
    "erin@example.com",
    "frank@example.com",
)
TRACKER_URL = "https://tracker.example.com/browse/"
# Project key, highest issue number, share of tickets.
PROJECTS: tuple[tuple[str, int, float], ...] = (
    ("SCRUM", 999, 0.45),
    ("MVP", 1999, 0.25),
    ("OPS", 180, 0.15),
    ("PLAT", 640, 0.10),
    ("SEC", 95, 0.05),
)
ISSUE_TYPES = ("Bug", "Bug", "Story", "Task", "Incident")
TRIGGER_STATUSES = ("To Do", "In Progress", "Ready for Agent", "Reopened")
HINTS = (
    "Focus on the login flow regression reported by support.",
    "The stack trace in the last comment is the relevant one.",
    "Only touch the billing service; the web app is frozen this week.",
    "Customer-facing: keep the fix minimal and add a regression test.",
    "Probably related to the cache TTL change from last sprint.",
    "Check the nightly job logs from the last three days.",
)
SLACK_CHANNELS = ("#eng-alerts", "#team-platform", "#support-escalations", "#release-train")
WAIT_REASONS = (
    "Waiting for approval of the proposed change",
    "Waiting for CI on the pull request",
    "Waiting for a human to answer a question on the ticket",
)
FAILURES = (
    "{step}: 3 tests failing in tests/test_api.py",
    "{step}: timed out after 3600 s",
    "{step}: agent lost its connection to the orchestrator",
    "{step}: tracker answered 429 Too Many Requests",
    "{step}: could not resolve dependency versions",
    "{step}: repository checkout failed (permission denied)",
)
WARNINGS = (
    "warning: deprecated API used in src/client.py",
    "warning: 2 flaky tests retried",
    "warning: cache miss, rebuilding dependency tree",
    "npm WARN peer dependency not installed",
)


@dataclass(frozen=True)
class WorkflowSpec:
    slug: str
    display_name: str
    steps: tuple[str, ...]
    needs_ticket: bool
    has_legacy_alias: bool

    @property
    def legacy_alias(self) -> str:
        return "agent_" + self.slug.replace("-", "_")


@dataclass(frozen=True)
class AgentSpec:
    name: str
    hostname: str
    avatar_url: str
    status: AgentStatus


def display_name(slug: str) -> str:
    """`se-rca-fix` -> `SE Rca Fix`: words title-cased, known acronyms upper-cased."""
    return " ".join(
        word.upper() if word in ACRONYMS else word.capitalize() for word in slug.split("-")
    )


def workflow_specs(number: int) -> list[WorkflowSpec]:
    """The first `number` workflows: the named ones, then made-up `verb-noun` ones."""
    specs: list[WorkflowSpec] = []
    for position, (slug, needs_ticket, steps) in enumerate(_slugs()):
        if position == number:
            break
        specs.append(
            WorkflowSpec(
                slug,
                display_name(slug),
                steps,
                needs_ticket,
                has_legacy_alias=position % 2 == 0,
            )
        )
    return specs


def _slugs() -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    yield from _NAMED_WORKFLOWS
    named = {slug for slug, _, _ in _NAMED_WORKFLOWS}
    made_up = [f"{verb}-{noun}" for verb, noun in product(_VERBS, _NOUNS)]
    for round_number in count(1):
        for position, slug in enumerate(made_up):
            if round_number > 1:
                slug = f"{slug}-{round_number}"
            if slug not in named:
                yield slug, position % 3 == 0, _GENERIC_STEPS[: 2 + position % 5]


def agent_specs(number: int) -> list[AgentSpec]:
    specs = []
    for position in range(number):
        name = f"agent-{position + 1:02d}"
        region = _REGIONS[position % len(_REGIONS)]
        specs.append(
            AgentSpec(
                name=name,
                hostname=f"ip-10-0-{position // 200}-{position % 200 + 10}.{region}.internal",
                avatar_url=f"https://avatars.example.com/agents/{name}.png",
                status=_AGENT_STATUSES[position % len(_AGENT_STATUSES)],
            )
        )
    return specs

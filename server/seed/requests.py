"""What a job is asked to do: which workflow, for which ticket, with which input and effort."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.domain.enums import EffortLevel

from . import catalog
from .catalog import WorkflowSpec
from .draws import Random, Weighted, one_of

_EFFORT_MIX: Weighted[EffortLevel | None] = Weighted(
    [(EffortLevel.MAX, 0.15), (EffortLevel.HIGH, 0.30), (EffortLevel.MEDIUM, 0.40), (None, 0.15)]
)
_PROJECT_MIX = Weighted([((key, highest), share) for key, highest, share in catalog.PROJECTS])


@dataclass(frozen=True, slots=True)
class Ticket:
    key: str
    url: str
    project: str


@dataclass(frozen=True, slots=True)
class Request:
    """A resend asks the same again."""

    workflow: int
    """Position in the catalog's workflows."""
    ticket: Ticket | None
    input: dict[str, Any]
    hint: str | None
    effort: EffortLevel | None
    automated: bool


class Requests:
    """Draws requests; workflows early in the catalog are asked for more often."""

    def __init__(self, random: Random, workflows: Sequence[WorkflowSpec]) -> None:
        self._random = random
        self._workflows = workflows
        weights = [(position, 1.0 / (position + 2)) for position in range(len(workflows))]
        self._any = Weighted(weights)
        ticketless = [pair for pair in weights if not workflows[pair[0]].needs_ticket]
        self._ticketless = Weighted(ticketless) if ticketless else self._any

    def draw(self, *, person: str, ticketless: bool) -> Request:
        """A request by `person`; `ticketless` ones get a ticket only if the workflow needs one."""
        random = self._random
        workflow = (self._ticketless if ticketless else self._any).pick(random())
        effort = _EFFORT_MIX.pick(random())
        if ticketless and not self._workflows[workflow].needs_ticket:
            return Request(workflow, None, {"requested_by": person}, None, effort, automated=False)
        ticket = self._ticket()
        if random() < 0.3:
            return Request(
                workflow,
                ticket,
                self._trigger(ticket),
                one_of(random, catalog.HINTS),
                effort,
                automated=True,
            )
        hint = one_of(random, catalog.HINTS) if random() < 0.15 else None
        return Request(workflow, ticket, {"ticket_url": ticket.url}, hint, effort, automated=False)

    def _ticket(self) -> Ticket:
        project, highest = _PROJECT_MIX.pick(self._random())
        key = f"{project}-{1 + int(self._random() * highest)}"
        return Ticket(key, catalog.TRACKER_URL + key, project)

    def _trigger(self, ticket: Ticket) -> dict[str, Any]:
        """The input of a job started by the tracker's automation rule."""
        random = self._random
        return {
            "ticket_url": ticket.url,
            "trigger_ticket_url": ticket.url,
            "trigger_project": ticket.project,
            "trigger_assignee": one_of(random, catalog.PEOPLE),
            "trigger_status": one_of(random, catalog.TRIGGER_STATUSES),
            "trigger_issue_key": ticket.key,
            "trigger_issue_type": one_of(random, catalog.ISSUE_TYPES),
        }

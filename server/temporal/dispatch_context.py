"""The dispatch context as a step process sees it: the JOB_* variables beyond the input."""

from collections.abc import Mapping
from typing import Any

from server.domain.dispatch import TRIGGER_PREFIX

from .contracts import JobContext


def dispatch_context_variables(context: JobContext, job_input: Mapping[str, Any]) -> dict[str, str]:
    """JOB_SOURCE always; JOB_EFFORT, JOB_EFFORT_<NAME> (what the level maps to in the
    workflow), JOB_HINT, JOB_TICKET_URL and JOB_TICKET_KEY when the job has them; and
    JOB_TRIGGER_<KEY> for each `trigger_<key>` of the input."""
    variables = {"JOB_SOURCE": context.source}
    optional = {
        "JOB_EFFORT": context.effort_level,
        "JOB_HINT": context.hint,
        "JOB_TICKET_URL": context.ticket_url,
        "JOB_TICKET_KEY": context.ticket_key,
    }
    variables.update({name: value for name, value in optional.items() if value is not None})
    for name, value in context.effort.items():
        variables[f"JOB_EFFORT_{name.upper()}"] = value
    for key, value in job_input.items():
        if key.startswith(TRIGGER_PREFIX) and value is not None:
            name = key.removeprefix(TRIGGER_PREFIX).upper()
            variables[f"JOB_TRIGGER_{name}"] = value if isinstance(value, str) else str(value)
    return variables

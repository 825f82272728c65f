"""Who a status event names when no person acted."""

SCHEDULER = "scheduler"
"""Picked the job up, or made it for a schedule's run."""
SYSTEM = "system"
"""The job's own course: a gate, its end, a chained follow-up."""

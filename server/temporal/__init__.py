"""Running jobs on Temporal: the job workflow, its activities, the worker and the agent."""

"""Task queue names: the control plane's, and one per agent."""


def agent_task_queue(base: str, *, tenant: str, agent: str) -> str:
    """Each agent listens on its own queue, so a step runs on the agent the job was given."""
    return f"{base}.agent.{tenant}.{agent}"

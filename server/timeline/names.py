"""The four phases of a job and the activities of the job workflow that mark them.

The names are those `server.temporal` registers its activities under; any other activity
(the step runs, approval gates) belongs to Execution.
"""

INIT = "Init"
AGENT_SETUP = "Agent Setup"
EXECUTION = "Execution"
TEARDOWN = "Teardown"
PHASES = (INIT, AGENT_SETUP, EXECUTION, TEARDOWN)

INIT_ACTIVITY = "init_job"
PHASE_OF_ACTIVITY = {INIT_ACTIVITY: INIT, "setup_agent": AGENT_SETUP, "teardown": TEARDOWN}


def phase_of(activity_type: str) -> str:
    return PHASE_OF_ACTIVITY.get(activity_type, EXECUTION)

"""Where the API serves downloads: the addresses GraphQL answers and the web layer routes."""

JOB_LOGS_ROUTE = "/jobs/{number}/logs"
ARTIFACT_ROUTE = "/artifacts/{id}"


def job_logs_path(number: int) -> str:
    """Job `number`'s whole log (JSON lines; `?format=text` for plain text)."""
    return JOB_LOGS_ROUTE.format(number=number)


def artifact_path(artifact_id: int) -> str:
    return ARTIFACT_ROUTE.format(id=artifact_id)

"""Links into Temporal's own web UI."""

from urllib.parse import quote


def workflow_url(ui_url: str, *, namespace: str, workflow_id: str) -> str:
    """The workflow's page in the UI at `ui_url`, which opens its latest run:
    `{ui}/namespaces/{namespace}/workflows/{workflowId}`."""
    return (
        f"{ui_url.rstrip('/')}/namespaces/{quote(namespace, safe='')}"
        f"/workflows/{quote(workflow_id, safe='')}"
    )

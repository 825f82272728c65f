"""Whether Temporal answers, for readiness: one cheap call on a client of its own."""

from datetime import timedelta

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from server.settings import Settings

from .client import connect, describe_failure

PROBE_TIMEOUT = timedelta(seconds=1)


class TemporalProbe:
    """Connects on first use, so building it needs no running Temporal."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None

    async def problem(self) -> str | None:
        """None when Temporal answers; otherwise what went wrong, in a few words."""
        if self._client is None:
            self._client = await connect(self._settings, identity="jobmonitor-probe", lazy=True)
        try:
            await self._client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=PROBE_TIMEOUT
            )
        except (RuntimeError, RPCError) as error:
            return describe_failure(error, self._settings)
        return None

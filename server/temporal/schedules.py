"""The scheduler the schedule service talks to: Temporal's own Schedules.

Each schedule starts `ScheduledJobWorkflow` on the control-plane task queue at its times; the
schedule's policy holds the overlap rule and the catch-up window (runs missed while Temporal
or its workers were down start late only within that window).
"""

import contextlib
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from server.domain.enums import ScheduleOverlap
from server.domain.errors import InvalidArgument
from server.services.orchestrator import NoScheduler, Scheduler, ScheduleTiming, WorkflowGone
from server.settings import Settings

from .client import connect, rpc_errors
from .contracts import SCHEDULED_JOB_WORKFLOW, ScheduledRun

RPC_TIMEOUT = timedelta(seconds=5)
TENANT_MEMO = "jobmonitor_tenant"
OVERLAP = {
    ScheduleOverlap.SKIP: ScheduleOverlapPolicy.SKIP,
    ScheduleOverlap.BUFFER_ONE: ScheduleOverlapPolicy.BUFFER_ONE,
    ScheduleOverlap.ALLOW_ALL: ScheduleOverlapPolicy.ALLOW_ALL,
}


class TemporalScheduler:
    """Connects on first use, so building it needs no running Temporal."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connected: Client | None = None

    async def _client(self) -> Client:
        if self._connected is None:
            self._connected = await connect(self._settings, identity="jobmonitor-api", lazy=True)
        return self._connected

    async def _handle(self, key: str) -> ScheduleHandle:
        return (await self._client()).get_schedule_handle(key)

    async def create_schedule(self, timing: ScheduleTiming) -> None:
        with rpc_errors():
            client = await self._client()
            try:
                await client.create_schedule(
                    timing.key,
                    self._schedule(timing),
                    memo={TENANT_MEMO: timing.tenant},
                    rpc_timeout=RPC_TIMEOUT,
                )
            except RPCError as error:
                if error.status is RPCStatusCode.INVALID_ARGUMENT:
                    refused = f"Temporal refused the schedule: {error.message}"
                    raise InvalidArgument(refused) from None
                raise

    async def pause_schedule(self, key: str, *, note: str | None) -> None:
        with rpc_errors():
            await (await self._handle(key)).pause(note=note or "paused", rpc_timeout=RPC_TIMEOUT)

    async def resume_schedule(self, key: str) -> None:
        with rpc_errors():
            await (await self._handle(key)).unpause(note="resumed", rpc_timeout=RPC_TIMEOUT)

    async def delete_schedule(self, key: str) -> None:
        with contextlib.suppress(WorkflowGone), rpc_errors():
            await (await self._handle(key)).delete(rpc_timeout=RPC_TIMEOUT)

    async def trigger_schedule(self, key: str) -> None:
        with rpc_errors():
            await (await self._handle(key)).trigger(
                overlap=ScheduleOverlapPolicy.ALLOW_ALL, rpc_timeout=RPC_TIMEOUT
            )

    async def next_run_times(self, key: str, *, count: int) -> list[datetime]:
        with rpc_errors():
            described = await (await self._handle(key)).describe(rpc_timeout=RPC_TIMEOUT)
        return list(described.info.next_action_times[:count])

    async def schedule_keys(self, *, tenant: str) -> set[str]:
        with rpc_errors():
            listed = await (await self._client()).list_schedules(rpc_timeout=RPC_TIMEOUT)
            return {
                entry.id
                async for entry in listed
                if await entry.memo_value(TENANT_MEMO, None) == tenant
            }

    async def has_schedule(self, key: str) -> bool:
        try:
            with rpc_errors():
                await (await self._handle(key)).describe(rpc_timeout=RPC_TIMEOUT)
        except WorkflowGone:
            return False
        return True

    def _schedule(self, timing: ScheduleTiming) -> Schedule:
        if timing.cron is not None:
            spec = ScheduleSpec(cron_expressions=[timing.cron], time_zone_name=timing.timezone)
        else:
            every = timedelta(seconds=timing.interval_seconds or 0)
            spec = ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=every)], time_zone_name=timing.timezone
            )
        return Schedule(
            action=ScheduleActionStartWorkflow(
                SCHEDULED_JOB_WORKFLOW,
                ScheduledRun(timing.tenant, timing.key),
                id=timing.key,
                task_queue=self._settings.temporal_task_queue,
                static_summary=f"Scheduled run of {timing.key}",
            ),
            spec=spec,
            policy=SchedulePolicy(
                overlap=OVERLAP[timing.overlap],
                catchup_window=timedelta(seconds=self._settings.schedule_catchup_window_seconds),
            ),
            state=ScheduleState(paused=timing.paused, note="paused" if timing.paused else None),
        )


def create_scheduler(settings: Settings) -> Scheduler:
    """Temporal when an address is configured; otherwise schedules cannot be made."""
    if settings.temporal_address is None:
        return NoScheduler()
    return TemporalScheduler(settings)

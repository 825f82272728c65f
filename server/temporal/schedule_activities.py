"""The activity a schedule's run makes its job with."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from server.services.schedules import ScheduleNotFound, ScheduleService

from .activity_errors import domain_errors_are_final
from .contracts import ScheduledJob, ScheduledRun


class ScheduleActivities:
    def __init__(self, schedules: ScheduleService) -> None:
        self._schedules = schedules

    @activity.defn(name="start_scheduled_job")
    async def start_scheduled_job(self, run: ScheduledRun) -> ScheduledJob:
        """The run's job (the same one on a retry). A missing schedule row may be one being
        written as its schedule is created: that is tried again; other domain errors are final."""
        with domain_errors_are_final():
            try:
                job = await self._schedules.start_run(
                    tenant=run.tenant, key=run.schedule_key, run_id=run.run_id
                )
            except ScheduleNotFound as missing:
                raise ApplicationError(missing.message) from None
        return ScheduledJob(run.tenant, job.number, job.pipeline_id)

"""What a schedule starts at each of its times: make the run's job, then run it as a child.

The job is made by an activity keyed by this run's workflow id, so a retried activity or a
replayed workflow finds the same job. Running the job as a child keeps this run open as long
as the job runs, which is what the schedule's overlap policy looks at.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy

with workflow.unsafe.imports_passed_through():
    from server.temporal.contracts import (
        JOB_WORKFLOW,
        SCHEDULED_JOB_WORKFLOW,
        JobRef,
        ScheduledJob,
        ScheduledRun,
    )

START_TIMEOUT = timedelta(seconds=30)
# A run that starts as its schedule is being created may find the schedule's row not yet
# written: the activity tries again for a while.
START_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=10)


@workflow.defn(name=SCHEDULED_JOB_WORKFLOW)
class ScheduledJobWorkflow:
    @workflow.run
    async def run(self, run: ScheduledRun) -> str:
        job: ScheduledJob = await workflow.execute_activity(
            "start_scheduled_job",
            ScheduledRun(run.tenant, run.schedule_key, workflow.info().workflow_id),
            result_type=ScheduledJob,
            start_to_close_timeout=START_TIMEOUT,
            retry_policy=START_RETRY,
        )
        result: str = await workflow.execute_child_workflow(
            JOB_WORKFLOW,
            JobRef(job.tenant, job.job_number),
            id=job.workflow_id,
            result_type=str,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Job #{job.job_number}",
        )
        return result

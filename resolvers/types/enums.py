"""The domain enums, registered with GraphQL under the contract's names."""

import strawberry

from server.domain.enums import (
    AgentStatus,
    DeliveryStatus,
    DispatchSource,
    EffortLevel,
    JobOrder,
    JobStatus,
    LogStream,
    ScheduleOverlap,
    StepStatus,
)

for _vocabulary in (
    AgentStatus,
    DeliveryStatus,
    EffortLevel,
    JobOrder,
    JobStatus,
    LogStream,
    ScheduleOverlap,
    StepStatus,
):
    strawberry.enum(_vocabulary)
strawberry.enum(
    DispatchSource,
    description=(
        "How a job came to be (the seed's Run Workflow / Run Job / Queue / Automation, and ours)."
    ),
)

__all__ = [
    "AgentStatus",
    "DeliveryStatus",
    "DispatchSource",
    "EffortLevel",
    "JobOrder",
    "JobStatus",
    "LogStream",
    "ScheduleOverlap",
    "StepStatus",
]

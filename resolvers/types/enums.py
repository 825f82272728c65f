"""The domain enums, registered with GraphQL under the contract's names."""

import strawberry

from server.domain.enums import (
    AgentStatus,
    DeliveryStatus,
    EffortLevel,
    JobOrder,
    JobStatus,
    LogStream,
    StepStatus,
)

for _vocabulary in (
    AgentStatus,
    DeliveryStatus,
    EffortLevel,
    JobOrder,
    JobStatus,
    LogStream,
    StepStatus,
):
    strawberry.enum(_vocabulary)

__all__ = [
    "AgentStatus",
    "DeliveryStatus",
    "EffortLevel",
    "JobOrder",
    "JobStatus",
    "LogStream",
    "StepStatus",
]

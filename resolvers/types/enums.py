"""The domain enums, registered with GraphQL under the contract's names."""

import strawberry

from server.domain.enums import (
    AgentStatus,
    EffortLevel,
    JobOrder,
    JobStatus,
    LogStream,
    StepStatus,
)

for _vocabulary in (AgentStatus, EffortLevel, JobOrder, JobStatus, LogStream, StepStatus):
    strawberry.enum(_vocabulary)

__all__ = ["AgentStatus", "EffortLevel", "JobOrder", "JobStatus", "LogStream", "StepStatus"]

"""The vocabularies shared by the database, the services and the GraphQL schema."""

from enum import StrEnum


class JobStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    WAITING = "WAITING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class StepStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class EffortLevel(StrEnum):
    MAX = "MAX"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"


class DispatchSource(StrEnum):
    """How a job came to be."""

    RUN_WORKFLOW = "RUN_WORKFLOW"
    RUN_JOB = "RUN_JOB"
    QUEUE = "QUEUE"
    AUTOMATION = "AUTOMATION"
    SCHEDULE = "SCHEDULE"
    RESEND = "RESEND"
    RERUN = "RERUN"
    FOLLOW_UP = "FOLLOW_UP"


class LogStream(StrEnum):
    STDOUT = "STDOUT"
    STDERR = "STDERR"
    SYSTEM = "SYSTEM"


class AgentStatus(StrEnum):
    ONLINE = "ONLINE"
    BUSY = "BUSY"
    OFFLINE = "OFFLINE"


class JobOrder(StrEnum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"


class DeliveryStatus(StrEnum):
    """Where a notification stands: owed, sent, or given up after its last attempt."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class ScheduleOverlap(StrEnum):
    """What a schedule's run does when the previous run is still going (Temporal's policies)."""

    SKIP = "SKIP"
    BUFFER_ONE = "BUFFER_ONE"
    ALLOW_ALL = "ALLOW_ALL"

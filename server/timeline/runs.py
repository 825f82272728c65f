"""One workflow run as the visibility API (or DescribeWorkflowExecution) summarises it."""

from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflow.v1 import WorkflowExecutionInfo

RUNNING = "RUNNING"
_STATUS_PREFIX = "WORKFLOW_EXECUTION_STATUS_"
# Temporal spells it CANCELED; the API contract (and our JobStatus) spell it CANCELLED.
_RENAMED = {"CANCELED": "CANCELLED"}
SHORT_RUN_ID_LENGTH = 8
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RunSummary:
    workflow_id: str
    run_id: str
    status: str
    history_length: int
    history_size_bytes: int
    started_at: datetime | None
    closed_at: datetime | None
    counted: bool
    """Whether `history_length` and `history_size_bytes` are known: visibility fills them only
    once a run has closed, DescribeWorkflowExecution always."""

    @classmethod
    def from_info(cls, info: WorkflowExecutionInfo, *, described: bool) -> "RunSummary":
        """The run as visibility lists it, or (`described`) as DescribeWorkflowExecution
        describes it."""
        status = status_name(info.status)
        return cls(
            workflow_id=info.execution.workflow_id,
            run_id=info.execution.run_id,
            status=status,
            history_length=info.history_length,
            history_size_bytes=info.history_size_bytes,
            started_at=info.start_time.ToDatetime(UTC) if info.HasField("start_time") else None,
            closed_at=info.close_time.ToDatetime(UTC) if info.HasField("close_time") else None,
            counted=described or status != RUNNING,
        )

    @property
    def closed(self) -> bool:
        """A closed run never changes again: what is read about it may be kept for good."""
        return self.status != RUNNING

    @property
    def short_run_id(self) -> str:
        return self.run_id.replace("-", "")[:SHORT_RUN_ID_LENGTH]

    @property
    def event_count(self) -> int | None:
        return self.history_length if self.counted else None

    @property
    def size_bytes(self) -> int | None:
        return self.history_size_bytes if self.counted else None

    @property
    def headline(self) -> str:
        """'Job: COMPLETED | 83 events | 14.9 KB | 019d500e', or 'Job: RUNNING | 019d500e' for a
        run not counted."""
        if not self.counted:
            return f"Job: {self.status} | {self.short_run_id}"
        return (
            f"Job: {self.status} | {self.history_length} events | "
            f"{human_size(self.history_size_bytes)} | {self.short_run_id}"
        )


def status_name(status: "WorkflowExecutionStatus.ValueType") -> str:
    name = WorkflowExecutionStatus.Name(status).removeprefix(_STATUS_PREFIX)
    return _RENAMED.get(name, name)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def latest(runs: list[RunSummary]) -> RunSummary:
    """The newest of a workflow id's runs (a reset or a continue-as-new makes more than one)."""
    return max(runs, key=lambda run: run.started_at or _NEVER)

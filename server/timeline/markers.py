"""Local activities as a history records them: one MarkerRecorded event each.

A local activity runs inside a workflow task, so it has no scheduled, started or closing event:
when the task completes, Temporal's SDK records a `core_local_activity` marker per local
activity, holding its type, id, attempt, result (or failure) and its completion time as the
workflow perceived it (the task's start plus the time it ran). It is scheduled when the one
before it in the same task ended, or when the task started.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent

LOCAL_ACTIVITY_MARKER = "core_local_activity"


@dataclass(frozen=True)
class LocalActivity:
    activity_id: str
    activity_type: str
    attempt: int
    completed_at: datetime
    failure: str | None
    """None when it succeeded; else the kind of its failure (see `failure_kind`)."""
    result: list[Payload]


def local_activity(event: HistoryEvent) -> LocalActivity | None:
    """The local activity a marker event records; None for other markers (patches...)."""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER or "data" not in marker.details:
        return None
    data: dict[str, Any] = json.loads(marker.details["data"].payloads[0].data)
    result = marker.details["result"].payloads if "result" in marker.details else []
    return LocalActivity(
        activity_id=str(data.get("activity_id", "")),
        activity_type=str(data.get("activity_type", "")),
        attempt=int(data.get("attempt") or 1),
        completed_at=_stamp(data.get("complete_time")) or event.event_time.ToDatetime(UTC),
        failure=failure_kind(event) if marker.HasField("failure") else None,
        result=list(result),
    )


def failure_kind(event: HistoryEvent) -> str:
    """`timeout`, `cancelled` or `failed`: how a failed local activity ended."""
    failure = event.marker_recorded_event_attributes.failure
    info = failure.cause.WhichOneof("failure_info") if failure.HasField("cause") else None
    own = failure.WhichOneof("failure_info")
    if "timeout_failure_info" in (own, info):
        return "timeout"
    if "canceled_failure_info" in (own, info):
        return "cancelled"
    return "failed"


def _stamp(value: Any) -> datetime | None:
    """A protobuf Timestamp as the SDK's marker data writes it: {"seconds": S, "nanos": N}."""
    if not isinstance(value, dict) or "seconds" not in value:
        return None
    seconds = int(value["seconds"]) + int(value.get("nanos", 0)) / 1e9
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)

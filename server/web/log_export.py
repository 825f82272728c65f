"""`GET /jobs/{number}/logs`: a job's whole log, streamed as it is read.

`format=jsonl` (default) or `text`; `stream=STDERR` (repeatable) and `step=2` narrow it. The
token and tenant checks are the API's: a job of another tenant is 404, like one that never was.
"""

from collections.abc import AsyncIterator
from enum import StrEnum
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from server.auth.gate import gate_of
from server.auth.rejection import RejectionCode, RequestRejected
from server.domain.downloads import JOB_LOGS_ROUTE
from server.domain.enums import LogStream
from server.reads.log_export import LogSelection, exported_lines, job_exists
from server.runtime import Runtime

from .context import runtime_of
from .log_formats import ENCODERS, MEDIA_TYPES, LogFormat

E = TypeVar("E", bound=StrEnum)


def log_export_routes() -> APIRouter:
    router = APIRouter()

    @router.get(JOB_LOGS_ROUTE)
    async def export(number: str, request: Request) -> StreamingResponse:
        principal = await gate_of(request).admit_token(request)
        runtime = runtime_of(request)
        log_format = _choice(request, "format", LogFormat, LogFormat.JSONL)
        selection = LogSelection(
            streams=[
                _parsed(LogStream, value, "stream")
                for value in request.query_params.getlist("stream")
            ],
            step=_step(request.query_params.get("step")),
        )
        job_number = await _job_number(runtime, principal.tenant, number)
        return StreamingResponse(
            _body(runtime, job_number, selection, log_format),
            media_type=MEDIA_TYPES[log_format],
            headers={
                "Content-Disposition": f'attachment; filename="job-{job_number}.{log_format}"',
                "Cache-Control": "no-store",
            },
        )

    return router


async def _body(
    runtime: Runtime, job_number: int, selection: LogSelection, log_format: LogFormat
) -> AsyncIterator[bytes]:
    encode = ENCODERS[log_format]
    async for rows in exported_lines(
        runtime.read_session_factory, job_number=job_number, selection=selection
    ):
        yield encode(rows)


async def _job_number(runtime: Runtime, tenant: str, given: str) -> int:
    """The job's number if the tenant has it; 404 otherwise (never telling another tenant's
    job from none)."""
    number = int(given) if given.isdigit() and len(given) < 19 else None
    if number is not None:
        async with runtime.read_session_factory() as session:
            if await job_exists(session, tenant=tenant, number=number):
                return number
    raise RequestRejected(404, RejectionCode.NOT_FOUND, f"job #{given} does not exist")


def _choice(request: Request, name: str, kind: type[E], default: E) -> E:
    value = request.query_params.get(name)
    return default if value is None else _parsed(kind, value, name)


def _parsed(kind: type[E], value: str, name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise RequestRejected(
            400, RejectionCode.BAD_REQUEST, f"`{name}` must be one of {allowed} (got {value!r})"
        ) from None


def _step(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise RequestRejected(
            400,
            RejectionCode.BAD_REQUEST,
            f"`step` must be a step index, 0 or more (got {value!r})",
        )
    return int(value)

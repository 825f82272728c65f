"""`GET /artifacts/{id}`: an artifact's bytes, streamed from its store a chunk at a time.

The token and tenant checks are the API's (another tenant's artifact is 404, like one that never
was). `ETag` is the content's SHA-256 (`If-None-Match` answers 304); one `Range: bytes=...` is
served as 206 (`If-Range` with another tag serves it all), a range past the end is 416. The
download is always an attachment and never sniffed, so an HTML artifact cannot run as a page of
the API's origin.
"""

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from server.auth.gate import gate_of
from server.auth.rejection import RejectionCode, RequestRejected
from server.db.models import Artifact
from server.domain.byte_ranges import Unsatisfiable, requested_range
from server.domain.downloads import ARTIFACT_ROUTE
from server.reads.artifacts import artifacts_by_id
from server.runtime import Runtime

from .context import runtime_of

LARGEST_ID = 2**63 - 1


def artifact_routes() -> APIRouter:
    router = APIRouter()

    @router.get(ARTIFACT_ROUTE)
    async def download(id: str, request: Request) -> Response:
        principal = await gate_of(request).admit_token(request)
        runtime = runtime_of(request)
        artifact = await _artifact(runtime, principal.tenant, id)
        etag = f'"{artifact.sha256}"'
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Content-Disposition": _disposition(artifact.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        }
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        size = artifact.size_bytes
        if_range = request.headers.get("if-range")
        asked = request.headers.get("range") if if_range in (None, etag) else None
        try:
            chosen = requested_range(asked, size)
        except Unsatisfiable:
            return Response(
                status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
            )
        start, end, status = (0, size, 200) if chosen is None else (chosen.start, chosen.end, 206)
        if chosen is not None:
            headers["Content-Range"] = chosen.content_range(size)
        headers["Content-Length"] = str(end - start)
        return StreamingResponse(
            runtime.artifacts.read(artifact, start, end),
            status_code=status,
            media_type=artifact.content_type,
            headers=headers,
        )

    return router


async def _artifact(runtime: Runtime, tenant: str, given: str) -> Artifact:
    artifact_id = int(given) if given.isdigit() and int(given) <= LARGEST_ID else None
    if artifact_id is not None:
        async with runtime.read_session_factory() as session:
            found = await artifacts_by_id(session, tenant=tenant, ids=[artifact_id])
        if artifact_id in found:
            return found[artifact_id]
    raise RequestRejected(404, RejectionCode.NOT_FOUND, f"artifact {given} does not exist")


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _disposition(name: str) -> str:
    """attachment, with the name's last part as the filename: plain ASCII for old clients,
    exact in `filename*` (RFC 6266)."""
    filename = name.rsplit("/", 1)[-1]
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _plain(character: str) -> str:
    printable = character.isascii() and character.isprintable()
    return character if printable and character not in '"\\' else "_"

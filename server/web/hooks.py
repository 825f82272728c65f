"""`POST /hooks/{source}`: webhooks in, verified, then handed to the automations.

A source is configured with its secret (`JOBMONITOR_HOOK_SECRETS`); any other is 404. The
sender signs the raw body with HMAC-SHA256 and sends `X-Jobmonitor-Signature: sha256=<hex>`;
a missing or wrong signature is 401 and nothing is read further. A body over 1 MB is 413, a
source over its rate 429. The delivery id comes from `X-Jobmonitor-Delivery` (or Jira's
`X-Atlassian-Webhook-Identifier`).
"""

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.auth.rate_limit import RateLimiter
from server.auth.rejection import RejectionCode, RequestRejected
from server.domain.signing import SIGNATURE_HEADER, signed_by
from server.settings import Settings

from .context import runtime_of

DELIVERY_HEADERS = ("X-Jobmonitor-Delivery", "X-Atlassian-Webhook-Identifier")
MAX_HOOK_BYTES = 1 << 20


def hook_routes(settings: Settings) -> APIRouter:
    """The webhook route, rate limited per source with the app's settings."""
    limiter = RateLimiter(per_minute=settings.hook_rate_per_minute, burst=settings.hook_rate_burst)
    router = APIRouter()

    @router.post("/hooks/{source}", status_code=202)
    async def receive(source: str, request: Request) -> JSONResponse:
        runtime = runtime_of(request)
        secret = runtime.settings.hook_secrets.get(source)
        if secret is None:
            raise RequestRejected(404, RejectionCode.NOT_FOUND, f"no webhook source {source!r}")
        wait = limiter.retry_after(source)
        if wait is not None:
            raise RequestRejected.too_many(wait, f"rate limit exceeded for source {source!r}")
        body = await _body(request)
        offered = request.headers.get(SIGNATURE_HEADER, "")
        if not signed_by(secret.get_secret_value(), body, offered):
            raise RequestRejected(
                401, RejectionCode.UNAUTHENTICATED, f"missing or wrong {SIGNATURE_HEADER}"
            )
        outcome = await runtime.automations.receive(
            tenant=runtime.settings.default_tenant,
            source=source,
            payload=_payload(body),
            delivery_id=next(
                (request.headers[name] for name in DELIVERY_HEADERS if name in request.headers),
                None,
            ),
        )
        return JSONResponse(
            {"replay": outcome.replay, "jobs": list(outcome.jobs)},
            status_code=200 if outcome.replay else 202,
        )

    return router


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_HOOK_BYTES:
            raise RequestRejected(
                413, RejectionCode.PAYLOAD_TOO_LARGE, f"webhook body over {MAX_HOOK_BYTES} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        raise RequestRejected(400, RejectionCode.BAD_REQUEST, "the body must be a JSON object")
    return payload

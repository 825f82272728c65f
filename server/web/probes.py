"""The probes: /healthz (liveness: the process answers) and /readyz (readiness, see
`server.web.readiness`: 200 when ready, else 503 with the reason), for the API and for the small
probe server of workers and agents."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.web.readiness import Readiness


def probe_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        readiness: Readiness = request.app.state.readiness
        status, body = (await readiness.verdict()).answer()
        return JSONResponse(body, status_code=status)

    return router

"""The Jobs page, served from this package at / (the list) and /jobs/N (a job), with its bundle
under /ui/, built from ui/ (see its README). It runs in the browser against /graphql with the
API's own rules: with auth on, it asks for a token and sends it like any client."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from server.web.bundle import CONTENT_SECURITY_POLICY, Bundle

BUNDLE = Bundle(
    __package__,
    "/ui",
    {
        "app.js": "text/javascript; charset=utf-8",
        "app.css": "text/css; charset=utf-8",
        "THIRD_PARTY_NOTICES.txt": "text/plain; charset=utf-8",
    },
)


def ui_routes(*, auth: bool) -> APIRouter:
    """The page at each of its addresses (it draws the one the URL names), and its bundle."""
    html = BUNDLE.page(
        {"path": "/graphql", "auth": auth}, js=BUNDLE.url("app.js"), css=BUNDLE.url("app.css")
    )
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
    router = BUNDLE.router()

    @router.get("/", include_in_schema=False)
    async def jobs() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    @router.get("/jobs/{number:int}", include_in_schema=False)
    async def job() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    return router

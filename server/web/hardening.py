"""The middlewares and handlers that sit in front of the GraphQL router."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from server.auth.rejection import RequestRejected, rejected_response
from server.settings import Settings

from .body_limit import BodyLimitMiddleware
from .request_id import RequestIdMiddleware
from .site_guard import SiteGuard


def harden(app: FastAPI, settings: Settings) -> None:
    """Outermost first: request id, the site guard (before anything else looks at a request
    from a foreign site or name), CORS (so refusals carry its headers), body size cap."""
    app.add_exception_handler(RequestRejected, rejected_response)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(SiteGuard, settings=settings)
    app.add_middleware(RequestIdMiddleware)

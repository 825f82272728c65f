"""GraphiQL served from this package: the page at /graphql (in a browser) and its bundle under
/graphql/ide/, built from npm packages pinned in web/graphiql (see its README). The page asks
nothing of any other origin, so it works on a network with no way out."""

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Response

ASSETS_PATH = "/graphql/ide"
_MEDIA_TYPES = {
    "graphiql.js": "text/javascript; charset=utf-8",
    "graphiql.css": "text/css; charset=utf-8",
    "THIRD_PARTY_NOTICES.txt": "text/plain; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Nothing from elsewhere, and nothing but its own bundle may run."""


@dataclass(frozen=True)
class Asset:
    content: bytes
    media_type: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.content).hexdigest()[:12]


@cache
def asset(name: str) -> Asset:
    """A file of the bundle, read once."""
    content = files(__package__).joinpath("assets", name).read_bytes()
    return Asset(content, _MEDIA_TYPES[name])


def page(*, auth: bool) -> str:
    """The HTML page: its config (the endpoint, whether a token is needed) as inert JSON, and
    the bundle's URLs carrying its version, so that a new bundle is fetched afresh."""
    template = files(__package__).joinpath("page.html").read_text(encoding="utf-8")
    config = json.dumps({"path": "/graphql", "auth": auth}).replace("<", "\\u003c")
    return template.format(
        config=config,
        js=f"{ASSETS_PATH}/graphiql.js?v={asset('graphiql.js').version}",
        css=f"{ASSETS_PATH}/graphiql.css?v={asset('graphiql.css').version}",
    )


def asset_router() -> APIRouter:
    router = APIRouter()

    @router.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def serve_asset(name: str) -> Response:
        if name not in _MEDIA_TYPES:
            raise HTTPException(404)
        found = asset(name)
        return Response(
            found.content,
            media_type=found.media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router

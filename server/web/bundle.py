"""Browser bundles served from this package (GraphiQL at /graphql, the Jobs page at /): built
from npm packages pinned in the repository and committed, so that `pip install` needs no Node
and the pages ask nothing of any other origin."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Nothing from elsewhere, and nothing but the bundle itself may run."""


@cache
def _read(package: str, name: str) -> bytes:
    return files(package).joinpath(name).read_bytes()


@dataclass(frozen=True)
class Bundle:
    """The files of one bundle: `assets/NAME` in `package`, served under `path`."""

    package: str
    path: str
    media_types: Mapping[str, str]

    def content(self, name: str) -> bytes:
        """A file of the bundle, read once."""
        return _read(self.package, f"assets/{name}")

    def url(self, name: str) -> str:
        """The file's URL, carrying its version, so that a new build is fetched afresh."""
        version = hashlib.sha256(self.content(name)).hexdigest()[:12]
        return f"{self.path}/{name}?v={version}"

    def page(self, config: object, **urls: str) -> str:
        """The bundle's `page.html` with its config as inert JSON and the given asset URLs."""
        template = _read(self.package, "page.html").decode()
        inert = json.dumps(config).replace("<", "\\u003c")
        return template.format(config=inert, **urls)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get(self.path + "/{name}", include_in_schema=False)
        async def serve_asset(name: str) -> Response:
            media_type = self.media_types.get(name)
            if media_type is None:
                raise HTTPException(404)
            return Response(
                self.content(name),
                media_type=media_type,
                headers={"Cache-Control": "public, max-age=86400"},
            )

        return router

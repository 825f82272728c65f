"""GraphiQL served from this package: the page at /graphql (in a browser) and its bundle under
/graphql/ide/, built from npm packages pinned in web/graphiql (see its README). The page asks
nothing of any other origin, so it works on a network with no way out."""

from fastapi import APIRouter

from server.web.bundle import Bundle

BUNDLE = Bundle(
    __package__,
    "/graphql/ide",
    {
        "graphiql.js": "text/javascript; charset=utf-8",
        "graphiql.css": "text/css; charset=utf-8",
        "THIRD_PARTY_NOTICES.txt": "text/plain; charset=utf-8",
    },
)


def page(*, auth: bool) -> str:
    """The HTML page: its config (the endpoint, whether a token is needed) and the bundle."""
    return BUNDLE.page(
        {"path": "/graphql", "auth": auth},
        js=BUNDLE.url("graphiql.js"),
        css=BUNDLE.url("graphiql.css"),
    )


def asset_router() -> APIRouter:
    return BUNDLE.router()

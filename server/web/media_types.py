"""GraphQL over HTTP's two response media types, and the status of a result without data.

`application/graphql-response+json` lets a client tell request errors (the document does not
parse or validate, the variables do not coerce) from results: those answer 400 with no
`data` entry. `application/json`, for older clients, answers every GraphQL result with 200.
"""

from graphql import GraphQLError
from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str:
    """The media type to answer with: graphql-response+json when the client accepts it at
    least as much as application/json, application/json otherwise (and without Accept)."""
    if not accept:
        return JSON
    graphql_response = json = 0.0
    for part in accept.split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        quality = _quality(parameters)
        if media_type.lower() == GRAPHQL_RESPONSE_JSON:
            graphql_response = max(graphql_response, quality)
        elif media_type.lower() in (JSON, "application/*", "*/*"):
            json = max(json, quality)
    return GRAPHQL_RESPONSE_JSON if graphql_response > 0 and graphql_response >= json else JSON


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


TIMED_OUT = "TIMEOUT"
TIMEOUT_STATUS = 504


def request_error_status(result: ExecutionResult) -> int | None:
    """The status of a result that holds no data because the request itself failed (no
    error of it has a path: nothing was executed), None for any other result."""
    if result.data is not None or not result.errors:
        return None
    if any(error.path for error in result.errors):
        return None
    return TIMEOUT_STATUS if any(_code(error) == TIMED_OUT for error in result.errors) else 400


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")

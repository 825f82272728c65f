"""Requests turned away before any GraphQL runs, answered in the GraphQL error shape."""

from enum import StrEnum

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class RejectionCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RATE_LIMITED = "RATE_LIMITED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    FORBIDDEN = "FORBIDDEN"
    """A browser origin or a network address the server does not serve."""
    MISDIRECTED = "MISDIRECTED"
    """A `Host` the server does not answer to (auth off: loopback names only)."""
    NOT_FOUND = "NOT_FOUND"
    """A webhook source the server is not configured for."""
    BAD_REQUEST = "BAD_REQUEST"


class RequestRejected(Exception):
    def __init__(
        self,
        status: int,
        code: RejectionCode,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    @classmethod
    def too_many(cls, wait: float, reason: str) -> "RequestRejected":
        """429 with `Retry-After`: the whole seconds until `wait` has passed."""
        seconds = max(1, round(wait + 0.5))
        return cls(
            429,
            RejectionCode.RATE_LIMITED,
            f"{reason}; retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )

    def response(self) -> JSONResponse:
        return JSONResponse(
            {
                "data": None,
                "errors": [{"message": self.message, "extensions": {"code": self.code}}],
            },
            status_code=self.status,
            headers=self.headers,
        )


async def rejected_response(_request: Request, error: Exception) -> Response:
    """The exception handler the app installs for RequestRejected."""
    assert isinstance(error, RequestRejected)
    return error.response()

"""The GraphQL router over HTTP: bodies that are not a JSON object are refused, operations
that run too long are stopped. (Websockets are served by `server.live`.)"""

import asyncio
from typing import Any

import orjson
from cross_web import HTTPException
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionResult

from resolvers.context import Context
from resolvers.limits import timeout_error


class JobmonitorRouter(GraphQLRouter[Context, None]):
    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = timeout

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """Stops a query or mutation that runs too long; its transaction rolls back."""
        try:
            async with asyncio.timeout(self.timeout):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            return ExecutionResult(data=None, errors=[timeout_error(self.timeout)])

    def encode_json(self, data: object) -> str | bytes:
        """orjson is ten times faster than json.dumps on a page of jobs; JSON inputs it cannot
        encode (integers beyond 64 bits) fall back to the standard encoder."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        """Strawberry expects an object (it would fail on `0` or `"x"` with a 500)."""
        try:
            decoded = super().decode_json(data)
        except UnicodeDecodeError as error:
            raise HTTPException(400, "the request body is not UTF-8") from error
        if not isinstance(decoded, dict):
            raise HTTPException(400, "the request body must be a JSON object")
        return decoded

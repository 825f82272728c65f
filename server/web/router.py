"""The GraphQL router over HTTP: answers in the media type the client asks for, refuses bodies
that are not a JSON object, stops operations that run too long. (Websockets are served by
`server.live`.)"""

import asyncio
import re
import time
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from graphql.execution import ExperimentalIncrementalExecutionResults
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from resolvers.context import Context
from resolvers.deferred import screened_parts
from resolvers.limits import timeout_error
from server.observability.metrics import REQUEST_SECONDS, REQUESTS, operation_label
from server.observability.tracing import REQUEST_ID, span

from .bundle import CONTENT_SECURITY_POLICY
from .media_types import GRAPHQL_RESPONSE_JSON, TIMEOUT_STATUS, negotiate, request_error_status
from .shared_reads import SharedReads, share_key


class JobmonitorRouter(GraphQLRouter[Context, None]):
    def __init__(
        self, *args: Any, timeout: float, ide_page: str | None = None, **kwargs: Any
    ) -> None:
        kwargs["graphql_ide"] = "graphiql" if ide_page else None  # when to render the page
        super().__init__(*args, **kwargs)
        self.timeout = timeout
        self.ide_page = ide_page
        self.shared_reads: SharedReads[ExecutionResult] = SharedReads()

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from this package (server.web.playground), not from a CDN."""
        return HTMLResponse(
            self.ide_page or "", headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY}
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """The operation, its execution shared with identical queries in flight
        (server/web/shared_reads.py), each execution within the time limit."""

        async def execute() -> ExecutionResult:
            async with asyncio.timeout(self.timeout):
                return await super(JobmonitorRouter, self).execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )

        key = share_key(
            scope=(context.principal.tenant, context.principal.role),
            method=request_adapter.method,
            query=request_data.query,
            operation_name=request_data.operation_name,
            variables=request_data.variables,
            extensions=request_data.extensions,
            settings=context.settings,
        )
        if key is None:
            return await execute()
        return await self.shared_reads.run(key, execute, shared=_without_errors)

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the operation in its span, counted and timed by name and outcome."""
        request_data = kwargs["request_data"]
        context: Context = kwargs["context"]
        name = operation_label(_operation_name(request_data))
        started = time.perf_counter()
        outcome = "refused"
        try:
            with span("graphql.operation", _span_attributes(name, context)):
                result = await self._execute_in_time(*args, **kwargs)
            outcome = _outcome(result)
            return result
        finally:
            REQUESTS.labels(name, outcome).inc()
            REQUEST_SECONDS.labels(name).observe(time.perf_counter() - started)

    async def _execute_in_time(self, *args: Any, **kwargs: Any) -> Any:
        """Stops a query or mutation that runs too long; its transaction rolls back. (With
        @defer, the limit is the first part's: the later ones stream as they come.)"""
        try:
            async with asyncio.timeout(self.timeout):
                result = await super().execute_operation(*args, **kwargs)
            if isinstance(result, ExperimentalIncrementalExecutionResults):
                later = screened_parts(result.subsequent_results, kwargs["context"])
                return result._replace(subsequent_results=later)
            return result
        except TimeoutError:
            return ExecutionResult(data=None, errors=[timeout_error(self.timeout)])

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A browser's page load, not a GET of an operation sent by id (persisted queries
        send `extensions` and no `query`)."""
        return (
            request.method == "GET"
            and "query" not in request.query_params
            and "extensions" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def get_sub_response(self, request: Request) -> Response:
        """The response headers and status of this request, in its negotiated media type."""
        response = await super().get_sub_response(request)
        response.media_type = negotiate(request.headers.get("accept"))
        request.state.graphql_response = response
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """In application/graphql-response+json, a request error answers 400 with no `data`."""
        processed = await super().process_result(request, result)
        response: Response = request.state.graphql_response
        if response.media_type == GRAPHQL_RESPONSE_JSON:
            status = request_error_status(result)
            if status is not None:
                response.status_code = status
                processed.pop("data", None)
        return processed

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = Response(
            self.encode_json(response_data),
            media_type=sub_response.media_type,
            status_code=sub_response.status_code or 200,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response

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


_NAMED_OPERATION = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def _operation_name(request_data: object) -> str | None:
    """The operationName the client sent, else the name its document starts with."""
    given = getattr(request_data, "operation_name", None)
    if given or not isinstance(query := getattr(request_data, "query", None), str):
        return given if isinstance(given, str) else None
    named = _NAMED_OPERATION.match(query)
    return named.group(1) if named else None


def _without_errors(result: ExecutionResult) -> bool:
    return isinstance(result, ExecutionResult) and not result.errors


def _span_attributes(name: str, context: Context) -> dict[str, str]:
    return {"graphql.operation.name": name, REQUEST_ID: context.request_id}


def _outcome(result: object) -> str:
    """ok, error (the result holds errors), refused (nothing ran), timeout."""
    if not isinstance(result, ExecutionResult):
        return "ok"  # the first part of a deferred answer
    status = request_error_status(result)
    if status == TIMEOUT_STATUS:
        return "timeout"
    if status is not None:
        return "refused"
    return "error" if result.errors else "ok"

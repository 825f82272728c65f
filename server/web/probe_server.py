"""/healthz and /readyz for the processes that serve no HTTP otherwise (`worker`, `agent`), on
JOBMONITOR_PROBE_PORT: a few lines of HTTP/1.1 on asyncio, one answer per connection."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import orjson

from server.web.readiness import Readiness

READ_SECONDS = 5.0
PHRASES = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


@asynccontextmanager
async def serving_probes(readiness: Readiness, *, port: int | None) -> AsyncIterator[None]:
    """Answer probes on `port` (all interfaces: the kubelet probes the pod's address) until the
    block ends; no port, no server."""
    if port is None:
        yield
        return

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_SECONDS):
                request = await reader.readuntil(b"\r\n\r\n")
            status, body = await _respond(readiness, request.split(b" ", 2)[1:2])
            payload = orjson.dumps(body)
            head = (
                f"HTTP/1.1 {status} {PHRASES[status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + payload)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(answer, "0.0.0.0", port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def _respond(readiness: Readiness, target: list[bytes]) -> tuple[int, dict[str, object]]:
    path = target[0] if target else b""
    if path == b"/healthz":
        return 200, {"status": "ok"}
    if path == b"/readyz":
        return (await readiness.verdict()).answer()
    return 404, {"status": "not found"}

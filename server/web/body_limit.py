"""Refuses request bodies over a size before anything reads them (413)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.auth.rejection import RejectionCode, RequestRejected


class BodyLimitMiddleware:
    """Reads the whole body (GraphQL needs all of it anyway), counting as it goes, and hands
    it on only if it fits; a lying or missing Content-Length changes nothing."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive)
        if body is None:
            rejection = RequestRejected(
                413,
                RejectionCode.PAYLOAD_TOO_LARGE,
                f"request body over {self.max_bytes} bytes",
            )
            await rejection.response()(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

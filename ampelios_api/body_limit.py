"""ASGI middleware that rejects request bodies larger than AMPELIOS_MAX_BODY_BYTES."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ampelios_api.errors import error_response


class BodySizeLimit:
    """Middleware that reads the whole body, up to `max_body_bytes`, then replays it to the app.

    A Content-Length above the limit is rejected before any byte is read. A
    chunked body is rejected as soon as the bytes read pass the limit, so the
    app never receives a partial body.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            "PAYLOAD_TOO_LARGE",
            f"request body is larger than {self.max_body_bytes} bytes; "
            "send a smaller body or raise AMPELIOS_MAX_BODY_BYTES",
        )
        await response(scope, receive, send)

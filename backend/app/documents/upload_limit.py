"""Refuse an oversize upload before reading it: a pure ASGI middleware on POST /api/v1/documents.

A declared Content-Length over the limit is answered 413 at once, without reading the body;
a body without one (chunked) is counted as it streams and cut off at the limit. The limit is
every file at its largest plus room for the multipart framing and form fields; the per-file
limit is still checked by the service while it stages each file.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings
from app.core.errors import error_body

UPLOAD_PATH = "/api/v1/documents"
FRAMING_SLACK_BYTES = 1024 * 1024


def upload_request_limit() -> int:
    settings = get_settings()
    return settings.max_upload_bytes * settings.max_files_per_upload + FRAMING_SLACK_BYTES


def _too_large(limit: int) -> tuple[str, dict[str, int]]:
    return f"The request is larger than the {limit} byte upload limit.", {"limit_bytes": limit}


class UploadSizeLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].rstrip("/") == UPLOAD_PATH
        ):
            await self.app(scope, receive, send)
            return
        limit = upload_request_limit()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            message, details = _too_large(limit)
            response = JSONResponse(
                error_body("payload_too_large", message, details),
                status_code=413,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing to our handler.
                    raise StarletteHTTPException(413, detail=_too_large(limit)[0])
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

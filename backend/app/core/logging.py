"""structlog configured for JSON lines (or a console renderer in development), and the
request id every API log line and error body carries."""

from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings


def configure_logging() -> None:
    settings = get_settings()
    level = logging.getLevelName(settings.log_level.upper())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        # Not cached: a logger keeps following the configuration (configure_logging runs again
        # in the worker and in tests, and structlog.testing.capture_logs swaps processors).
        cache_logger_on_first_use=False,
    )
    # Lines of other libraries (stdlib logging: Celery, uvicorn, SQLAlchemy...) go through the
    # same renderer, with the request id of the context they are logged in.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=renderer,
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_logger_name,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_cairn", False)]:
        root.removeHandler(old)  # configured again (a test, a second app): one handler
    handler._cairn = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # uvicorn's own handlers
        server_log = logging.getLogger(name)  # are plain text: send its lines through ours
        server_log.handlers.clear()
        server_log.propagate = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


# --- request id --------------------------------------------------------------------------------
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_STATE_KEY = "request_id"
# A caller's id is kept when short and made of safe characters; otherwise a new one is made.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def valid_request_id(value: str | None) -> str | None:
    return value if value is not None and _SAFE_REQUEST_ID.fullmatch(value) else None


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    found = state.get(REQUEST_ID_STATE_KEY)
    return found if isinstance(found, str) else None


class RequestIdMiddleware:
    """Takes X-Request-ID (when valid) or makes one, binds it into structlog's context
    (every log line of the request carries `request_id`), keeps it in the request state
    and returns it in the X-Request-ID response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (v.decode("latin-1") for k, v in scope.get("headers", [])
             if k.lower() == b"x-request-id"),
            None,
        )
        request_id = valid_request_id(given) or uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID_STATE_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

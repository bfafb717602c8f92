"""Per-request stage timings, sent back in a `Server-Timing` header when SERVER_TIMING=true.

`ServerTimingMiddleware` (outside the request guard) starts an empty record per request in a
context variable; code on the request's path wraps a stage in `with stage("name"):` (a
no-op when no record is active, e.g. in a worker or when the setting is off). Threads the
route runs in copy the context, so they add to the same record. The header lists each stage
in milliseconds (`auth;dur=0.4, search_lexical;dur=3.1, ...`) and `app`, the whole time until
the response started (so `app` minus the stages is routing, validation and serialisation).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings

_record: ContextVar[dict[str, float] | None] = ContextVar("server_timing", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as `name` (added up when it runs more than once)."""
    record = _record.get()
    if record is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        record[name] = record.get(name, 0.0) + (time.perf_counter() - t0) * 1000


def header_value(record: dict[str, float]) -> str:
    return ", ".join(f"{name};dur={ms:.2f}" for name, ms in record.items())


class ServerTimingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not get_settings().server_timing:
            await self.app(scope, receive, send)
            return
        record: dict[str, float] = {}
        token = _record.set(record)
        t0 = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["app"] = (time.perf_counter() - t0) * 1000
                MutableHeaders(scope=message)["Server-Timing"] = header_value(record)
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            _record.reset(token)

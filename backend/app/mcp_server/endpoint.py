"""/mcp: the MCP server over streamable HTTP (stateless, JSON responses), authenticated by
the same credentials as the REST API (`Authorization: Bearer <API key>` or `X-API-Key`).

The SDK's session manager needs a task group running in the serving event loop; the app's
lifespan is not touched, so one is started on the first request of each loop.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from fastapi.security import HTTPAuthorizationCredentials
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.auth.principal import get_principal
from app.core.db import get_sessionmaker
from app.core.errors import AppError, error_body
from app.mcp_server.tools import build, current_principal


class MCPEndpoint:
    def __init__(self) -> None:
        self.server = build()
        self._managers: dict[asyncio.AbstractEventLoop, StreamableHTTPSessionManager] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def _manager(self) -> StreamableHTTPSessionManager:
        loop = asyncio.get_running_loop()
        if loop in self._managers:
            return self._managers[loop]
        self.server.streamable_http_app(
            stateless_http=True, json_response=True,
            # Requests carry an API key, so DNS rebinding cannot borrow a browser's access.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        manager = self.server.session_manager
        started = asyncio.Event()

        async def run() -> None:
            async with manager.run():
                started.set()
                await asyncio.Event().wait()

        # A fresh context: the manager's tasks must not inherit this request's principal.
        task = loop.create_task(run(), context=contextvars.Context())
        self._tasks.add(task)
        await started.wait()
        self._managers[loop] = manager
        return manager

    def _authenticate(self, scope: Scope) -> Any:
        request = Request(scope)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        bearer = (HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
                  if scheme.lower() == "bearer" and token.strip() else None)
        with get_sessionmaker()() as session:
            return get_principal(request, session, bearer, request.headers.get("x-api-key"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            principal = await asyncio.to_thread(self._authenticate, scope)
        except AppError as exc:
            response = JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code,
                                    headers=exc.headers)
            await response(scope, receive, send)
            return
        manager = await self._manager()
        token = current_principal.set(principal)
        try:
            await manager.handle_request(scope, receive, send)
        finally:
            current_principal.reset(token)


def mcp_route() -> Route:
    """The /mcp route (an ASGI endpoint: the SDK answers JSON-RPC over POST)."""
    return Route("/mcp", MCPEndpoint(), methods=["GET", "POST", "DELETE"],
                 include_in_schema=False)

"""The request guard: a pure ASGI layer that runs before any request body is read.

1. Authentication first. Every /api/v1 route except the public ones (app.auth.routes
   PUBLIC_ROUTES: login and refresh) needs a credential (`Authorization: Bearer <jwt or API
   key>` or `X-API-Key`). The guard checks it (the database lookup runs in a worker thread,
   with its own session) and answers 401 without reading a byte of the body when it is
   missing or invalid. The Principal goes into the request state, where `get_principal`
   finds it instead of authenticating again. Skipped when AUTH_ENABLED=false.
2. Body caps. A multipart request may be at most MAX_UPLOAD_REQUEST_BYTES in total, any other
   body at most MAX_JSON_BODY_BYTES. A declared Content-Length over the cap gets 413 at once;
   a chunked body is counted as it streams and cut off with 413 when it passes the cap
   (MAX_UPLOAD_BYTES per file is still checked by the upload service).
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import principal_cache, tokens
from app.auth.principal import PRINCIPAL_STATE_KEY, Principal, authenticate_credential
from app.auth.routes import API_PREFIX, PUBLIC_ROUTES
from app.core import timing
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import AppError, Unauthorized, error_body
from app.core.logging import get_logger

log = get_logger(__name__)

# The client may still be sending the refused body: do not keep reading it to reuse the
# connection, close it.
_CLOSE = {"Connection": "close"}


def is_protected(method: str, path: str) -> bool:
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        return False
    return (method.upper(), path.rstrip("/") or "/") not in PUBLIC_ROUTES


def body_limit(content_type: str) -> tuple[int, str]:
    """(cap in bytes, what it is called) for a request of this Content-Type."""
    settings = get_settings()
    if content_type.lower().lstrip().startswith("multipart/"):
        return settings.max_upload_request_bytes, "upload request"
    return settings.max_json_body_bytes, "request body"


def too_large_message(limit: int, what: str) -> str:
    return f"The {what} is larger than the {limit} byte limit."


def _headers(scope: Scope) -> dict[bytes, bytes]:
    # The first value of each header is enough for the few read here.
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.lower(), value)
    return found


def credential_of(headers: dict[bytes, bytes]) -> str | None:
    authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    api_key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    return api_key or None


def _authenticate(credential: str) -> Principal:
    with session_scope() as session:
        principal = authenticate_credential(session, credential)
    # cached for AUTH_CACHE_TTL_S (app.auth.principal_cache), never past a token's expiry
    expires = None
    if principal.via == "token":
        expires = float(tokens.decode(credential, tokens.ACCESS)["exp"])
    principal_cache.put(credential, principal, expires)
    return principal


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    raw = headers.get(b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if get_settings().auth_enabled and is_protected(scope["method"], scope["path"]):
            refusal = await self._authenticate(scope, headers)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit, what = body_limit(content_type)
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            response = JSONResponse(
                error_body("payload_too_large", too_large_message(limit, what),
                           {"limit_bytes": limit}),
                status_code=413, headers=_CLOSE,
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
                    # Raised inside the route's body parsing, which lets an HTTPException
                    # through to the error handlers: a 413 in the usual error shape.
                    raise StarletteHTTPException(
                        413, detail=too_large_message(limit, what), headers=_CLOSE
                    )
            return message

        await self.app(scope, counting_receive, send)

    async def _authenticate(
        self, scope: Scope, headers: dict[bytes, bytes]
    ) -> JSONResponse | None:
        """None when the caller is authenticated (the Principal is in the state), else the
        response to send instead of the route's."""
        credential = credential_of(headers)
        try:
            if not credential:
                raise Unauthorized("Authentication required.")
            with timing.stage("auth"):
                principal = principal_cache.get(credential) or await run_in_threadpool(
                    _authenticate, credential
                )
        except AppError as exc:
            return JSONResponse(
                error_body(exc.code, exc.message, exc.details),
                status_code=exc.status_code,
                headers={**(exc.headers or {}), **_CLOSE},
            )
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
            log.warning("database_unavailable", error_type=type(exc).__name__)
            return JSONResponse(
                error_body("service_unavailable",
                           "The database is unavailable. Try again later."),
                status_code=503, headers={"Retry-After": "5", **_CLOSE},
            )
        scope.setdefault("state", {})[PRINCIPAL_STATE_KEY] = principal
        return None

"""One error shape for every response: {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.logging import REQUEST_ID_HEADER, get_logger, request_id_of


class AppError(Exception):
    """An error the caller can act on. Services raise these; the API renders them."""

    status_code = 400
    code = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code
        if headers is not None:
            self.headers = headers


class Unauthorized(AppError):
    """No valid credentials. Always carries WWW-Authenticate, as RFC 9110 asks."""

    status_code = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="cairn"'}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(AppError):
    status_code = 422
    code = "validation_error"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI) -> None:
    # The handlers take a fresh logger each time (structlog caches loggers once used, and
    # tests capture these lines).
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "The request is not valid.", details),
            status_code=422,
        )

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # Connection refused or lost, pool exhausted, statement timeout: the caller may retry.
        get_logger(__name__).warning("database_unavailable", error_type=_type_name(exc))
        return JSONResponse(
            error_body("service_unavailable", "The database is unavailable. Try again later."),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(sa_exc.DataError)
    async def _bad_value(_: Request, exc: sa_exc.DataError) -> JSONResponse:
        # A value the database refuses (a NUL character, a number out of range): the input's
        # fault. The database's message quotes the value, so only its SQLSTATE is logged.
        get_logger(__name__).info("database_refused_value", error_type=type(exc.orig).__name__,
                 sqlstate=getattr(exc.orig, "sqlstate", None))
        return JSONResponse(
            error_body("validation_error", "A value in the request cannot be stored or searched."),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Runs in Starlette's outermost middleware, outside the request id middleware: the id
        # comes from the request state and goes into the body and the header here.
        request_id = request_id_of(request.scope)
        get_logger(__name__).error(
            "unhandled_error", request_id=request_id, error_type=_type_name(exc),
            traceback=safe_traceback(exc),
        )
        body = error_body("internal_error", "An unexpected error occurred. Quote the request "
                          "id when you report it.")
        body["error"]["request_id"] = request_id
        return JSONResponse(
            body, status_code=500,
            headers={REQUEST_ID_HEADER: request_id} if request_id else None,
        )


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def safe_traceback(exc: BaseException, max_chain: int = 5) -> str:
    """The frames and exception types of `exc` and its causes, without any exception message:
    a database error's message carries the SQL's bound values and the rows it refused."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < max_chain and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts = []
    for link in reversed(chain):
        frames = "".join(traceback.format_list(traceback.extract_tb(link.__traceback__)))
        parts.append(f"Traceback (most recent call last):\n{frames}{_type_name(link)}\n")
    return "\nThe above exception led to:\n\n".join(parts)

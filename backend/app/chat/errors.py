"""The HTTP errors of a failed provider (without streaming; streamed, they are `error` events)."""

from __future__ import annotations

from app.core.errors import AppError
from app.providers.llm import LLMError


class BadGateway(AppError):
    status_code = 502
    code = "llm_error"


class GatewayTimeout(AppError):
    status_code = 504
    code = "llm_timeout"


def llm_http_error(exc: LLMError) -> AppError:
    if exc.timeout:
        return GatewayTimeout(exc.message)
    return BadGateway(exc.message, details={"transient": exc.transient})


def llm_event_error(exc: LLMError) -> dict[str, object]:
    err = llm_http_error(exc)
    return {"code": err.code, "message": err.message, "transient": exc.transient}

"""Rate limits as FastAPI dependencies, on the `limits` library with counters in Redis
(REDIS_URL), so every API process shares them. Keyed by API key, else user, else client IP.

    @router.post("", dependencies=[Depends(limit_search)])

A refused request answers 429 {"error": {"code": "rate_limited", ...}} with Retry-After.
If Redis is unreachable the request is let through and a warning is logged: the limiter
protects capacity, it is not an access control.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.auth.principal import CurrentPrincipal, Principal
from app.core.config import get_settings
from app.core.errors import RateLimited
from app.core.logging import get_logger

log = get_logger(__name__)
NAMESPACE = "cairn-rl"


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(redis_url))


@lru_cache(maxsize=64)
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def identity(request: Request, principal: Principal | None) -> str:
    if principal is not None and principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    if principal is not None and principal.via == "token":
        return f"user:{principal.user_id}"
    # Anonymous, or single-user mode where everybody is the same local user.
    return f"ip:{_client_ip(request)}"


def enforce(scope: str, spec: str, key: str) -> None:
    """Count one hit of `key` in `scope`; RateLimited (429) past the limit `spec`."""
    settings = get_settings()
    if not settings.rate_limit_enabled:
        return
    item = _item(spec)
    limiter = _limiter(settings.redis_url)
    try:
        if limiter.hit(item, NAMESPACE, scope, key):
            return
        stats = limiter.get_window_stats(item, NAMESPACE, scope, key)
    except Exception as exc:  # Redis down or unreachable: fail open, loudly
        log.warning("rate_limit_unavailable", scope=scope, error=str(exc))
        return
    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
    raise RateLimited(
        f"Too many {scope} requests: the limit is {spec}. Retry in {retry_after} s.",
        details={"scope": scope, "limit": spec, "retry_after_s": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def limit_upload(request: Request, principal: CurrentPrincipal) -> None:
    enforce("upload", get_settings().rate_limit_upload, identity(request, principal))


def limit_search(request: Request, principal: CurrentPrincipal) -> None:
    enforce("search", get_settings().rate_limit_search, identity(request, principal))


def limit_chat(request: Request, principal: CurrentPrincipal) -> None:
    enforce("chat", get_settings().rate_limit_chat, identity(request, principal))


def limit_login(request: Request) -> None:
    """Login and refresh, before anyone is known: per client IP."""
    enforce("login", get_settings().rate_limit_login, identity(request, None))

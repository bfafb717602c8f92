"""Rate limits on the `limits` library, counters in Redis (REDIS_URL) so every API process
shares them.

Who is counted:
- upload and search: the USER (a principal's user id, whichever API key or token it came
  with; keys are free to mint, so counting per key would multiply the budget). Anonymous
  callers and single-user mode (everybody is the same local user) count per client address.
- login and refresh: twice, per ACCOUNT (the normalised email; for refresh the subject of a
  validly signed refresh token) and per client ADDRESS, so neither many addresses against
  one account nor one address against many accounts gets past the limit.

    @router.post("", dependencies=[Depends(limit_search)])

A refused request answers 429 {"error": {"code": "rate_limited", ...}} with Retry-After.

When Redis is unreachable the limiter neither fails open nor closed: it counts in an
in-process `limits` MemoryStorage instead (so limits still hold, per API process rather
than shared), logs `rate_limit_redis_unavailable` once, and goes back to Redis as soon as a
call there succeeds again (logging `rate_limit_redis_recovered`). Failing open would let a
Redis outage lift every limit (login guessing included); failing closed would turn it into
an API outage.
"""

from __future__ import annotations

import math
import threading
import time
from functools import lru_cache

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.auth.principal import CurrentPrincipal, Principal
from app.core import timing
from app.core.config import get_settings
from app.core.errors import RateLimited
from app.core.logging import get_logger

log = get_logger(__name__)
NAMESPACE = "cairn-rl"

_fallback_lock = threading.Lock()
_redis_down = False


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(redis_url))


@lru_cache(maxsize=1)
def _memory_limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=64)
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def identity(request: Request, principal: Principal | None) -> str:
    """The counted identity: the user whenever one is known (never the API key)."""
    if principal is not None and principal.via != "local":
        return f"user:{principal.user_id}"
    # Anonymous, or single-user mode where everybody is the same local user.
    return f"ip:{_client_ip(request)}"


def _set_redis_down(down: bool, error: str = "") -> None:
    global _redis_down
    with _fallback_lock:
        changed, _redis_down = _redis_down != down, down
    if changed and down:
        log.warning("rate_limit_redis_unavailable", error=error,
                    message="Redis is unreachable: rate limits count in this process only "
                    "until it is back.")
    elif changed:
        log.info("rate_limit_redis_recovered")


def _hit(item: RateLimitItem, scope: str, key: str) -> tuple[bool, float]:
    """(allowed, reset time) from Redis, or from the in-process fallback when it is down."""
    try:
        limiter = _limiter(get_settings().redis_url)
        if limiter.hit(item, NAMESPACE, scope, key):
            _set_redis_down(False)
            return True, 0.0
        stats = limiter.get_window_stats(item, NAMESPACE, scope, key)
        _set_redis_down(False)
        return False, stats.reset_time
    except Exception as exc:  # Redis down or unreachable: count in this process
        _set_redis_down(True, f"{type(exc).__name__}: {exc}")
    memory = _memory_limiter()
    if memory.hit(item, NAMESPACE, scope, key):
        return True, 0.0
    return False, memory.get_window_stats(item, NAMESPACE, scope, key).reset_time


def enforce(scope: str, spec: str, key: str) -> None:
    """Count one hit of `key` in `scope`; RateLimited (429) past the limit `spec`."""
    if not get_settings().rate_limit_enabled:
        return
    allowed, reset_time = _hit(_item(spec), scope, key)
    if allowed:
        return
    retry_after = max(1, math.ceil(reset_time - time.time()))
    raise RateLimited(
        f"Too many {scope} requests: the limit is {spec}. Retry in {retry_after} s.",
        details={"scope": scope, "limit": spec, "retry_after_s": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def limit_upload(request: Request, principal: CurrentPrincipal) -> None:
    enforce("upload", get_settings().rate_limit_upload, identity(request, principal))


def limit_search(request: Request, principal: CurrentPrincipal) -> None:
    with timing.stage("rate_limit"):
        enforce("search", get_settings().rate_limit_search, identity(request, principal))


def limit_login(request: Request, account: str | None) -> None:
    """Login and refresh: per client address, and per account when one is named (the
    email as normalised for lookup, or a refresh token's subject)."""
    spec = get_settings().rate_limit_login
    enforce("login-address", spec, identity(request, None))
    if account and account.strip():
        enforce("login-account", spec, f"account:{account.strip().lower()}")

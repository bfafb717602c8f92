"""Rate limits: 429 with the JSON error shape and Retry-After, per API key, counted in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.core.config import Settings, get_settings


@pytest.fixture
def tiny_limits() -> Iterator[Settings]:
    settings = get_settings()
    saved = (settings.rate_limit_upload, settings.rate_limit_search, settings.rate_limit_login)
    settings.rate_limit_upload = "2/minute"
    settings.rate_limit_search = "3/minute"
    settings.rate_limit_login = "1000000/minute"
    try:
        yield settings
    finally:
        (settings.rate_limit_upload, settings.rate_limit_search,
         settings.rate_limit_login) = saved


def _upload(client: Any, n: int) -> Any:
    return client.post("/api/v1/documents",
                       files=[("files", (f"r{n}.txt", f"rate limited text {n}".encode()))],
                       data={"collection": "rl"})


def _assert_429(resp: Any) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(resp.headers["retry-after"]) <= 60


def test_uploads_past_the_limit_are_429_with_retry_after(
    tiny_limits: Settings, make_user: Any
) -> None:
    _, client = make_user()
    assert [_upload(client, i).status_code for i in range(2)] == [202, 202]
    _assert_429(_upload(client, 3))


def test_searches_past_the_limit_are_429(tiny_limits: Settings, make_user: Any) -> None:
    _, client = make_user()
    codes = [client.post("/api/v1/search", json={"query": "anything"}).status_code
             for _ in range(3)]
    assert 429 not in codes, codes
    _assert_429(client.post("/api/v1/search", json={"query": "anything"}))


def test_limits_are_per_key_not_global(tiny_limits: Settings, make_user: Any) -> None:
    _, first = make_user()
    _, second = make_user()
    for i in range(2):
        _upload(first, i)
    _assert_429(_upload(first, 9))
    assert _upload(second, 0).status_code == 202


def test_the_limit_counts_in_redis(tiny_limits: Settings, make_user: Any, services: Any) -> None:
    import redis

    _, client = make_user()
    _upload(client, 0)
    keys = redis.Redis.from_url(get_settings().redis_url).keys("*cairn-rl*upload*")
    assert keys, "no rate-limit counter in Redis"


def test_disabled_rate_limit_never_refuses(tiny_limits: Settings, make_user: Any) -> None:
    tiny_limits.rate_limit_enabled = False
    try:
        _, client = make_user()
        assert all(_upload(client, i).status_code == 202 for i in range(4))
    finally:
        tiny_limits.rate_limit_enabled = True


def test_login_is_limited_per_client(tiny_limits: Settings, anon: Any) -> None:
    tiny_limits.rate_limit_login = "2/minute"
    body = {"email": "nobody@cairn.test", "password": "wrong-password"}
    # The anonymous test client's address may have been counted already this minute.
    codes = [anon.post("/api/v1/auth/login", json=body).status_code for _ in range(3)]
    assert codes[-1] == 429 and set(codes) <= {401, 429}, codes

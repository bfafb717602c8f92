"""Rate limits: 429 with the JSON error shape and Retry-After; counted per user (not per API
key), login per account and per client address; counted in Redis, and still counted (in
process) while Redis is down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

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


def test_limits_are_per_user_not_global(tiny_limits: Settings, make_user: Any) -> None:
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


def test_two_keys_of_one_user_share_one_budget(
    tiny_limits: Settings, make_user: Any, app: Any
) -> None:
    from app.auth import service
    from app.core.db import session_scope

    user, first = make_user()
    with session_scope() as session:
        _, second_key = service.create_api_key(session, user.id, "second")
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {second_key}"}) as second:
        assert [_upload(first, i).status_code for i in range(2)] == [202, 202]
        _assert_429(_upload(second, 5))  # a fresh key does not bring a fresh budget


def test_a_token_and_a_key_of_one_user_share_one_budget(
    tiny_limits: Settings, make_user: Any, anon: Any
) -> None:
    user, by_key = make_user()
    token = anon.post("/api/v1/auth/login",
                      json={"email": user.email, "password": user.password}).json()
    assert [_upload(by_key, i).status_code for i in range(2)] == [202, 202]
    resp = anon.post("/api/v1/documents",
                     headers={"Authorization": f"Bearer {token['access_token']}"},
                     files=[("files", ("t.txt", b"by token"))], data={"collection": "rl"})
    _assert_429(resp)


def _client_at(app: Any, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


def _login(client: Any, email: str) -> int:
    resp = client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-pass"})
    return int(resp.status_code)


def test_login_is_limited_per_account_across_addresses(tiny_limits: Settings, app: Any) -> None:
    tiny_limits.rate_limit_login = "2/minute"
    email = f"victim-{uuid.uuid4().hex[:8]}@cairn.test"
    codes = []
    for i in range(3):  # three different addresses, each far below its own limit
        with _client_at(app, f"10.1.{i}.{uuid.uuid4().int % 250}") as c:
            codes.append(_login(c, email.upper() if i == 2 else email))
    assert codes == [401, 401, 429], codes  # the email is normalised: one account


def test_login_is_limited_per_address_across_accounts(tiny_limits: Settings, app: Any) -> None:
    tiny_limits.rate_limit_login = "2/minute"
    with _client_at(app, f"10.2.0.{uuid.uuid4().int % 250}") as c:
        codes = [_login(c, f"a{i}-{uuid.uuid4().hex[:6]}@cairn.test") for i in range(3)]
    assert codes == [401, 401, 429], codes


def test_refresh_is_limited_per_account_of_the_token(
    tiny_limits: Settings, app: Any, make_user: Any
) -> None:
    user, _ = make_user()
    tiny_limits.rate_limit_login = "2/minute"
    with _client_at(app, f"10.3.0.{uuid.uuid4().int % 250}") as c:
        pair = c.post("/api/v1/auth/login",
                      json={"email": user.email, "password": user.password}).json()
    codes = []
    for i in range(3):
        with _client_at(app, f"10.4.{i}.{uuid.uuid4().int % 250}") as c:
            resp = c.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            codes.append(resp.status_code)
            if resp.status_code == 200:
                pair = resp.json()
    # each from a fresh address; the token's subject (the user) is counted: the third is over
    assert codes == [200, 200, 429], codes


def test_with_redis_down_the_limiter_still_refuses_past_the_limit(
    tiny_limits: Settings, app: Any, services: Any
) -> None:
    from app.auth import ratelimit

    tiny_limits.rate_limit_login = "2/minute"
    email = f"down-{uuid.uuid4().hex[:8]}@cairn.test"
    services.stop_redis()
    try:
        with _client_at(app, f"10.5.0.{uuid.uuid4().int % 250}") as c:
            codes = [_login(c, email) for _ in range(3)]
        assert codes == [401, 401, 429], codes  # neither open (no 429) nor closed (5xx)
        assert ratelimit._redis_down
    finally:
        services.start_redis()
    with _client_at(app, f"10.6.0.{uuid.uuid4().int % 250}") as c:
        assert _login(c, f"back-{uuid.uuid4().hex[:8]}@cairn.test") == 401
    assert not ratelimit._redis_down  # back on the shared counters


def test_with_redis_down_requests_under_the_limit_still_pass(
    tiny_limits: Settings, make_user: Any, services: Any
) -> None:
    _, client = make_user()
    services.stop_redis()
    try:
        codes = [client.post("/api/v1/search", json={"query": "anything"}).status_code
                 for _ in range(3)]
    finally:
        services.start_redis()
    assert codes == [200, 200, 200], codes

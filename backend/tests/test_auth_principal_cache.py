"""The request guard's principal cache (app/auth/principal_cache.py): a revoke, deactivation
or role change through the API takes effect at once; a change made behind the API's back
(another process) within AUTH_CACHE_TTL_S; a token's entry never outlives the token."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from app.auth import principal_cache
from app.auth.models import ApiKey
from app.auth.principal import Principal
from app.core.config import get_settings
from app.core.db import session_scope
from tests.conftest import cache_ttl


@pytest.fixture
def short_ttl() -> Iterator[float]:
    with cache_ttl("auth_cache_ttl_s", 1.0, principal_cache.forget_all) as ttl:
        yield ttl


def _principal() -> Principal:
    return Principal(user_id=uuid.uuid4(), email="x@cairn.test", role="member", via="token")


def test_a_key_revoked_behind_the_apis_back_is_refused_once_the_ttl_has_passed(
    make_user: Any, anon: Any, short_ttl: float
) -> None:
    user, _ = make_user()
    assert anon.get("/api/v1/users/me", headers=user.headers).status_code == 200
    with session_scope() as session:  # as another API process would: this one is not told
        session.execute(update(ApiKey).where(ApiKey.user_id == user.id)
                        .values(revoked_at=datetime.now(UTC)))  # fmt: skip
    assert anon.get("/api/v1/users/me", headers=user.headers).status_code == 200  # cached
    time.sleep(short_ttl + 0.2)
    resp = anon.get("/api/v1/users/me", headers=user.headers)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "api_key_revoked"


def test_a_key_revoked_through_the_api_is_refused_at_once_though_cached(
    make_user: Any, anon: Any
) -> None:
    _, user_client = make_user()
    created = user_client.post("/api/v1/api-keys", json={"name": "second"}).json()
    headers = {"X-API-Key": created["key"]}
    for _ in range(2):  # the second answer comes from the cache
        assert anon.get("/api/v1/users/me", headers=headers).status_code == 200
    assert user_client.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    resp = anon.get("/api/v1/users/me", headers=headers)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "api_key_revoked"


def test_a_demoted_admin_loses_admin_routes_at_once_though_cached(make_user: Any) -> None:
    _, boss = make_user("admin")
    demoted, demoted_client = make_user("admin")
    assert demoted_client.get("/api/v1/users").status_code == 200  # cached as an admin
    resp = boss.patch(f"/api/v1/users/{demoted.id}", json={"role": "member"})
    assert resp.status_code == 200, resp.text
    assert demoted_client.get("/api/v1/users").status_code == 403


def test_an_entry_never_outlives_its_token_nor_is_kept_with_a_zero_ttl(short_ttl: float) -> None:
    principal_cache.put("expired-token", _principal(), expires_at=time.time() - 1)
    assert principal_cache.get("expired-token") is None
    principal_cache.put("fresh-token", _principal(), expires_at=time.time() + 60)
    assert principal_cache.get("fresh-token") is not None  # the TTL (1 s) bounds it instead
    get_settings().auth_cache_ttl_s = 0
    principal_cache.put("uncached", _principal())
    assert principal_cache.get("uncached") is None

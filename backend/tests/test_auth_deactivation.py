"""A deactivated user's access tokens, refresh tokens and API keys stop working at once;
an expired refresh token is refused; reactivation needs a new login."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.auth.secret import jwt_secret
from tests.auth_fixtures import create_test_user


def _login(anon: Any, email: str, password: str) -> dict[str, Any]:
    resp = anon.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _deactivate(admin: Any, user_id: uuid.UUID, active: bool = False) -> None:
    resp = admin.patch(f"/api/v1/users/{user_id}", json={"is_active": active})
    assert resp.status_code == 200 and resp.json()["is_active"] is active, resp.text


def test_a_deactivated_users_access_token_stops_working(anon: Any, make_user: Any) -> None:
    _, admin = make_user("admin")
    user = create_test_user()
    pair = _login(anon, user.email, user.password)
    assert anon.get("/api/v1/users/me", headers=_bearer(pair["access_token"])).status_code == 200
    _deactivate(admin, user.id)
    resp = anon.get("/api/v1/users/me", headers=_bearer(pair["access_token"]))
    assert resp.status_code == 401, resp.text
    assert anon.get("/api/v1/documents", headers=user.headers).status_code == 401  # its key


def test_a_deactivated_users_refresh_token_is_refused_even_after_reactivation(
    anon: Any, make_user: Any
) -> None:
    _, admin = make_user("admin")
    user = create_test_user()
    pair = _login(anon, user.email, user.password)
    _deactivate(admin, user.id)
    resp = anon.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert resp.status_code == 401, resp.text
    _deactivate(admin, user.id, active=True)
    # Deactivation revoked the login session: the old refresh token stays dead.
    resp = anon.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert resp.status_code == 401, resp.text
    assert _login(anon, user.email, user.password)["access_token"]


def test_a_deactivated_user_cannot_log_in(anon: Any, make_user: Any) -> None:
    _, admin = make_user("admin")
    user = create_test_user()
    _deactivate(admin, user.id)
    resp = anon.post("/api/v1/auth/login", json={"email": user.email, "password": user.password})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "invalid_credentials"


def test_an_expired_refresh_token_is_refused(anon: Any) -> None:
    user = create_test_user()
    pair = _login(anon, user.email, user.password)
    claims = jwt.decode(pair["refresh_token"], jwt_secret(), algorithms=["HS256"],
                        issuer="cairn")
    past = datetime.now(UTC) - timedelta(hours=1)
    claims.update(iat=past - timedelta(hours=1), exp=past)
    expired = jwt.encode(claims, jwt_secret(), algorithm="HS256")
    resp = anon.post("/api/v1/auth/refresh", json={"refresh_token": expired})
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"]["code"] == "token_expired"
    # the unexpired original still works (the refusal was about expiry, nothing else)
    ok = anon.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert ok.status_code == 200, ok.text


def test_an_access_token_used_as_a_refresh_token_is_refused(anon: Any) -> None:
    user = create_test_user()
    pair = _login(anon, user.email, user.password)
    resp = anon.post("/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert resp.status_code == 401, resp.text

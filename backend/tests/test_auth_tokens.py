"""Login, access tokens, refresh rotation with reuse detection, logout."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt

from app.auth.secret import jwt_secret
from tests.auth_fixtures import TestUser, create_test_user


def _login(anon: Any, email: str, password: str) -> Any:
    return anon.post("/api/v1/auth/login", json={"email": email, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _me(anon: Any, token: str) -> Any:
    return anon.get("/api/v1/users/me", headers=_bearer(token))


def _assert_401(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 401, resp.text
    assert resp.headers["www-authenticate"].startswith("Bearer")
    err = resp.json()["error"]
    assert err["code"] and err["message"]
    return dict(err)


def test_login_returns_tokens_that_authenticate(anon: Any) -> None:
    user = create_test_user()
    resp = _login(anon, user.email, user.password)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["access_token"] != body["refresh_token"]
    me = _me(anon, body["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["email"] == user.email and me.json()["role"] == "member"


def test_login_email_is_case_insensitive(anon: Any) -> None:
    user = create_test_user()
    assert _login(anon, user.email.upper(), user.password).status_code == 200


def test_wrong_password_and_unknown_email_are_401_with_the_same_message(anon: Any) -> None:
    user = create_test_user()
    wrong = _assert_401(_login(anon, user.email, user.password + "x"))
    unknown = _assert_401(_login(anon, f"nobody-{uuid.uuid4().hex}@cairn.test", user.password))
    assert wrong == unknown
    assert wrong["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in_and_its_tokens_and_keys_stop_working(
    anon: Any, make_user: Any
) -> None:
    _, admin_client = make_user("admin")
    user = create_test_user()
    access = _login(anon, user.email, user.password).json()["access_token"]
    resp = admin_client.patch(f"/api/v1/users/{user.id}", json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    _assert_401(_login(anon, user.email, user.password))
    _assert_401(_me(anon, access))
    _assert_401(_me(anon, user.api_key))


def test_expired_access_token_is_401(anon: Any) -> None:
    user = create_test_user()
    now = int(time.time())
    expired = jwt.encode(
        {"iss": "cairn", "sub": str(user.id), "typ": "access", "iat": now - 120, "exp": now - 60},
        jwt_secret(), algorithm="HS256",
    )
    assert _assert_401(_me(anon, expired))["code"] == "token_expired"


def test_tampered_forged_and_unsigned_tokens_are_401(anon: Any) -> None:
    victim = create_test_user()
    other = create_test_user()
    token = _login(anon, other.email, other.password).json()["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(victim.id)  # claim to be someone else, keep the old signature
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _assert_401(_me(anon, f"{header}.{forged_payload}.{signature}"))
    wrong_key = jwt.encode({**claims, "exp": int(time.time()) + 60}, "x" * 48, algorithm="HS256")
    _assert_401(_me(anon, wrong_key))
    unsigned = jwt.encode({**claims, "exp": int(time.time()) + 60}, None, algorithm="none")
    _assert_401(_me(anon, unsigned))
    _assert_401(_me(anon, "not-a-token"))


def test_refresh_token_is_not_an_access_token(anon: Any) -> None:
    user = create_test_user()
    refresh = _login(anon, user.email, user.password).json()["refresh_token"]
    _assert_401(_me(anon, refresh))


def test_refresh_rotates_and_reuse_revokes_the_whole_family(anon: Any) -> None:
    user = create_test_user()
    first = _login(anon, user.email, user.password).json()
    second = anon.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert _me(anon, second_body["access_token"]).status_code == 200

    # The first refresh token was spent: presenting it again is reuse.
    reuse = anon.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert _assert_401(reuse)["code"] == "token_reused"
    # ... which revoked its descendants too.
    after = anon.post("/api/v1/auth/refresh", json={"refresh_token": second_body["refresh_token"]})
    assert _assert_401(after)["code"] == "token_revoked"
    # Another login session of the same user is untouched.
    other = _login(anon, user.email, user.password).json()
    resp = anon.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert resp.status_code == 200


def test_refresh_with_garbage_or_access_token_is_401(anon: Any) -> None:
    user = create_test_user()
    tokens = _login(anon, user.email, user.password).json()
    _assert_401(anon.post("/api/v1/auth/refresh", json={"refresh_token": "garbage"}))
    _assert_401(anon.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}))


def test_logout_revokes_the_refresh_token_family(anon: Any) -> None:
    user = create_test_user()
    tokens = _login(anon, user.email, user.password).json()
    resp = anon.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                     headers=_bearer(tokens["access_token"]))
    assert resp.status_code == 204, resp.text
    again = anon.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert _assert_401(again)["code"] == "token_revoked"


def test_logout_cannot_revoke_another_users_session(anon: Any) -> None:
    victim = create_test_user()
    attacker = create_test_user()
    victim_tokens = _login(anon, victim.email, victim.password).json()
    resp = anon.post("/api/v1/auth/logout", json={"refresh_token": victim_tokens["refresh_token"]},
                     headers=attacker.headers)
    assert resp.status_code == 204
    still = anon.post("/api/v1/auth/refresh",
                      json={"refresh_token": victim_tokens["refresh_token"]})
    assert still.status_code == 200, still.text


def test_logout_needs_credentials(anon: Any) -> None:
    _assert_401(anon.post("/api/v1/auth/logout", json={"refresh_token": "x"}))


def test_default_client_is_the_default_test_user(client: Any, default_user: TestUser) -> None:
    me = client.get("/api/v1/users/me")
    assert me.status_code == 200 and me.json()["email"] == default_user.email

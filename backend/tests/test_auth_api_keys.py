"""API keys (shown once, stored hashed, listed, revoked, last_used_at) and admin-only users."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.auth import principal_cache
from app.auth.models import ApiKey


def test_api_key_is_shown_once_stored_hashed_and_listed_without_secret(
    make_user: Any, anon: Any, db: Any
) -> None:
    _, user_client = make_user()
    resp = user_client.post("/api/v1/api-keys", json={"name": "laptop"})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    key = created["key"]
    assert key.startswith("ck_") and len(key) >= 40
    assert key.startswith(created["prefix"]) and len(created["prefix"]) == 11
    row = db.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(created["id"])))
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (row.prefix, row.key_hash, row.name)

    listed = user_client.get("/api/v1/api-keys").json()
    mine = next(k for k in listed if k["id"] == created["id"])
    assert mine["name"] == "laptop" and mine["revoked"] is False and "key" not in mine
    me = anon.get("/api/v1/users/me", headers={"X-API-Key": key})
    assert me.status_code == 200, me.text


def test_revoked_api_key_is_401(make_user: Any, anon: Any) -> None:
    _, user_client = make_user()
    created = user_client.post("/api/v1/api-keys", json={"name": "ci"}).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert anon.get("/api/v1/users/me", headers=headers).status_code == 200
    assert user_client.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    resp = anon.get("/api/v1/users/me", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "api_key_revoked"
    listed = {k["id"]: k for k in user_client.get("/api/v1/api-keys").json()}
    assert listed[created["id"]]["revoked"] is True


def test_a_guessed_or_altered_key_is_401(make_user: Any, anon: Any) -> None:
    _, user_client = make_user()
    key = user_client.post("/api/v1/api-keys", json={"name": "k"}).json()["key"]
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in (altered, "ck_", "ck_00000000" + "x" * 40, key + "x"):
        resp = anon.get("/api/v1/users/me", headers={"Authorization": f"Bearer {bad}"})
        assert resp.status_code == 401, bad


def test_users_cannot_list_or_revoke_each_others_keys(make_user: Any) -> None:
    _, alice = make_user()
    _, bob = make_user()
    alice_key = alice.post("/api/v1/api-keys", json={"name": "alice"}).json()
    assert alice_key["id"] not in {k["id"] for k in bob.get("/api/v1/api-keys").json()}
    assert bob.delete(f"/api/v1/api-keys/{alice_key['id']}").status_code == 404
    assert alice.get("/api/v1/api-keys").json()[0]["revoked"] is False


def test_last_used_at_is_set_on_use_and_throttled(make_user: Any, anon: Any, db: Any) -> None:
    _, user_client = make_user()
    created = user_client.post("/api/v1/api-keys", json={"name": "t"}).json()
    assert created["last_used_at"] is None
    headers = {"X-API-Key": created["key"]}
    assert anon.get("/api/v1/users/me", headers=headers).status_code == 200
    key_id = uuid.UUID(created["id"])
    first = db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))
    assert first is not None
    anon.get("/api/v1/users/me", headers=headers)
    db.expire_all()
    assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) == first  # throttled
    # Once the interval has passed it is written again.
    db.execute(update(ApiKey).where(ApiKey.id == key_id)
               .values(last_used_at=datetime.now(UTC) - timedelta(minutes=5)))
    db.commit()
    principal_cache.forget_all()  # a cached principal is not looked up (nor touched) for its TTL
    anon.get("/api/v1/users/me", headers=headers)
    db.expire_all()
    later = db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))
    assert later > datetime.now(UTC) - timedelta(minutes=1)


def test_api_key_name_is_validated(client: Any) -> None:
    assert client.post("/api/v1/api-keys", json={"name": ""}).status_code == 422
    assert client.post("/api/v1/api-keys", json={}).status_code == 422


def test_admin_creates_lists_and_deactivates_users(make_user: Any, anon: Any) -> None:
    _, admin = make_user("admin")
    email = f"New-{uuid.uuid4().hex[:8]}@Cairn.Test"
    resp = admin.post("/api/v1/users", json={"email": email, "password": "longenough1",
                                             "role": "member"})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["email"] == email.lower() and created["is_active"] is True
    assert created["id"] in {u["id"] for u in admin.get("/api/v1/users").json()}
    login = anon.post("/api/v1/auth/login", json={"email": email, "password": "longenough1"})
    assert login.status_code == 200
    patched = admin.patch(f"/api/v1/users/{created['id']}", json={"is_active": False})
    assert patched.status_code == 200 and patched.json()["is_active"] is False


def test_duplicate_email_in_another_case_is_409(make_user: Any) -> None:
    user, admin = make_user("admin")
    resp = admin.post("/api/v1/users",
                      json={"email": user.email.upper(), "password": "longenough1"})
    assert resp.status_code == 409


def test_weak_password_and_bad_role_are_422(make_user: Any) -> None:
    _, admin = make_user("admin")
    email = f"x-{uuid.uuid4().hex[:8]}@cairn.test"
    weak = admin.post("/api/v1/users", json={"email": email, "password": "short"})
    assert weak.status_code == 422
    resp = admin.post("/api/v1/users", json={"email": email, "password": "longenough1",
                                             "role": "root"})
    assert resp.status_code == 422


def test_member_cannot_manage_users(make_user: Any) -> None:
    user, member = make_user()
    resp = member.post("/api/v1/users",
                       json={"email": "m@cairn.test", "password": "longenough1"})
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "forbidden"
    assert member.get("/api/v1/users").status_code == 403
    assert member.patch(f"/api/v1/users/{user.id}", json={"role": "admin"}).status_code == 403


def test_admin_cannot_deactivate_or_demote_themselves(make_user: Any) -> None:
    admin_user, admin = make_user("admin")
    own = f"/api/v1/users/{admin_user.id}"
    assert admin.patch(own, json={"is_active": False}).status_code == 422
    assert admin.patch(own, json={"role": "member"}).status_code == 422
    missing = admin.patch(f"/api/v1/users/{uuid.uuid4()}", json={"is_active": False})
    assert missing.status_code == 404

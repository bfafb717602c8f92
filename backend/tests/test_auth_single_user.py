"""Single-user mode leaves no back door: what was minted for the hidden local admin while
AUTH_ENABLED=false (API keys, refresh tokens) stops working when the API starts with auth
on, and the local admin is deactivated; real users' credentials are untouched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth import repository, service, tokens
from app.auth.bootstrap import on_startup
from app.core.config import get_settings
from app.core.db import session_scope


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@pytest.fixture
def local_mode_credentials() -> Iterator[dict[str, str]]:
    """An API key minted through the API in single-user mode, and a refresh token of the
    local admin; auth is back on (settings) when the test body runs."""
    from app.main import create_app

    settings = get_settings()
    settings.auth_enabled = False
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as local:
            resp = local.post("/api/v1/api-keys", json={"name": "laptop"})
            assert resp.status_code == 201, resp.text
            key = resp.json()["key"]
        with session_scope() as session:
            local_user = repository.find_local_user(session)
            assert local_user is not None and local_user.is_active
            pair = tokens.issue_pair(session, local_user)
    finally:
        settings.auth_enabled = True
    yield {"key": key, "refresh": pair.refresh_token}


def test_a_key_minted_in_single_user_mode_is_refused_once_auth_is_on(
    local_mode_credentials: dict[str, str], anon: Any
) -> None:
    key = local_mode_credentials["key"]
    # The back door as it was: auth is on, but nothing has locked the local admin yet.
    assert anon.get("/api/v1/users/me", headers=_bearer(key)).status_code == 200
    on_startup()  # the API starts with AUTH_ENABLED=true
    resp = anon.get("/api/v1/users/me", headers=_bearer(key))
    assert resp.status_code == 401, resp.text
    assert anon.get("/api/v1/documents", headers={"X-API-Key": key}).status_code == 401


def test_a_refresh_token_of_the_local_admin_is_refused_once_auth_is_on(
    local_mode_credentials: dict[str, str], anon: Any
) -> None:
    on_startup()
    resp = anon.post("/api/v1/auth/refresh",
                     json={"refresh_token": local_mode_credentials["refresh"]})
    assert resp.status_code == 401, resp.text


def test_startup_with_auth_on_deactivates_the_local_admin_and_revokes_its_keys(
    local_mode_credentials: dict[str, str],
) -> None:
    on_startup()
    with session_scope() as session:
        local_user = repository.find_local_user(session)
        assert local_user is not None and not local_user.is_active
        keys = repository.api_keys_of(session, local_user.id)
        assert keys and all(k.revoked_at is not None for k in keys)


def test_a_real_users_key_survives_the_switch(make_user: Any) -> None:
    _, client = make_user()
    on_startup()
    assert client.get("/api/v1/users/me").status_code == 200


def test_the_local_admin_cannot_log_in_after_the_switch(anon: Any) -> None:
    on_startup()
    for password in ("!", "local", "password", "x" * 12):
        resp = anon.post("/api/v1/auth/login",
                         json={"email": "local@cairn.local", "password": password})
        assert resp.status_code == 401, resp.text


def test_single_user_mode_reactivates_the_local_admin() -> None:
    settings = get_settings()
    settings.auth_enabled = False
    try:
        on_startup()
        with session_scope() as session:
            local_user = repository.find_local_user(session)
            assert local_user is not None and local_user.is_active
    finally:
        settings.auth_enabled = True
        on_startup()
    with session_scope() as session:
        local_user = repository.find_local_user(session)
        assert local_user is not None and not local_user.is_active
        assert service.lock_local_user(session).deactivated is False  # already locked

"""Every /api/v1 route needs credentials, except login and refresh; the app refuses to start
with an unprotected one; single-user mode is loud, not silent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.auth.routes import PUBLIC_ROUTES, api_routes, assert_protected, unprotected_routes
from app.core.config import get_settings


def _concrete(path: str) -> str:
    # Any syntactically valid value: the request must be refused before it is looked at.
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


def _protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in api_routes(app) if (m, p) not in PUBLIC_ROUTES]


def test_every_api_v1_route_but_login_and_refresh_answers_401_without_credentials(
    app: FastAPI, anon: Any
) -> None:
    routes = _protected_routes(app)
    assert len(routes) >= 15, routes  # the walk sees the whole API
    for method, path in routes:
        resp = anon.request(method, _concrete(path))
        assert resp.status_code == 401, (method, path, resp.status_code, resp.text)
        assert resp.headers.get("www-authenticate", "").startswith("Bearer"), (method, path)
        assert resp.json()["error"]["code"] == "unauthorized"


def test_every_protected_route_also_refuses_a_bad_credential(app: FastAPI, anon: Any) -> None:
    for method, path in _protected_routes(app):
        resp = anon.request(method, _concrete(path), headers={"Authorization": "Bearer ck_nope"})
        assert resp.status_code == 401, (method, path, resp.text)


def test_public_routes_answer_without_credentials(anon: Any) -> None:
    for method, path in PUBLIC_ROUTES:
        resp = anon.request(method, path, json={})
        assert resp.status_code == 422, (method, path, resp.text)  # reached: body validated


def test_an_app_with_an_unprotected_api_v1_route_refuses_to_start(app: FastAPI) -> None:
    assert unprotected_routes(app) == []
    rogue = APIRouter(prefix="/api/v1/rogue")

    @rogue.get("")
    def leak() -> dict[str, str]:
        return {"secret": "yes"}

    bad = FastAPI()
    bad.include_router(rogue)
    with pytest.raises(RuntimeError, match="/api/v1/rogue"):
        assert_protected(bad)


@pytest.fixture
def auth_disabled() -> Any:
    settings = get_settings()
    settings.auth_enabled = False
    try:
        yield settings
    finally:
        settings.auth_enabled = True


def test_single_user_mode_acts_as_local_admin(auth_disabled: Any) -> None:
    from app.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as local:
        assert local.get("/api/health").json() == {"status": "ok", "auth": "disabled"}
        me = local.get("/api/v1/users/me")
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "admin" and me.json()["email"] == "local@cairn.local"
        assert local.get("/api/v1/collections").status_code == 200


def test_single_user_mode_warns_loudly_at_startup() -> None:
    env = {**os.environ, "AUTH_ENABLED": "false", "LOG_JSON": "true"}
    done = subprocess.run(
        [sys.executable, "-c",
         "from app.core.logging import configure_logging; configure_logging();"
         "from app.auth.bootstrap import on_startup; on_startup()"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    assert "AUTH_DISABLED" in done.stderr, done.stderr
    assert "NO authentication" in done.stderr


def test_with_auth_enabled_health_does_not_claim_disabled(client: Any) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


def test_the_local_user_cannot_log_in_when_auth_is_on(anon: Any) -> None:
    for password in ("!", "", "local", "password"):
        resp = anon.post("/api/v1/auth/login",
                         json={"email": "local@cairn.local", "password": password or "x"})
        assert resp.status_code == 401

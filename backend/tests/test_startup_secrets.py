"""The API refuses to start with a known, short or low-entropy JWT_SECRET or the old default
ADMIN_PASSWORD (issue 7, item 1), unless ALLOW_INSECURE_SECRETS=true."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from pydantic import SecretStr

from app.auth.secret import InsecureSecretError, check_startup_secrets
from app.core.config import get_settings

OLD_JWT_DEFAULT = "local-only-jwt-secret-change-me-0123456789abcdef"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    current = get_settings()
    monkeypatch.setattr(current, "jwt_secret", SecretStr(secrets.token_urlsafe(48)))
    monkeypatch.setattr(current, "admin_password", SecretStr(secrets.token_urlsafe(18)))
    monkeypatch.setattr(current, "allow_insecure_secrets", False)
    return current


@pytest.mark.parametrize(
    "value",
    [OLD_JWT_DEFAULT, "a" * 64, "0123456789abcdef" * 4, "x" * 31, "short"],
    ids=["old-compose-default", "one-character", "repeated-pattern", "31-chars", "short"],
)
def test_weak_jwt_secret_stops_startup(settings: Any, value: str) -> None:
    settings.jwt_secret = SecretStr(value)
    with pytest.raises(InsecureSecretError, match="JWT_SECRET"):
        check_startup_secrets()


def test_old_default_admin_password_stops_startup(settings: Any) -> None:
    settings.admin_password = SecretStr("cairn-local-only")
    with pytest.raises(InsecureSecretError, match="ADMIN_PASSWORD"):
        check_startup_secrets()


def test_short_admin_password_stops_startup_in_production_only(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.admin_password = SecretStr("short-pw")
    check_startup_secrets()  # ENVIRONMENT=test
    monkeypatch.setattr(settings, "environment", "production")
    with pytest.raises(InsecureSecretError, match="12 characters"):
        check_startup_secrets()


def test_strong_secrets_start(settings: Any) -> None:
    check_startup_secrets()


def test_the_development_flag_lets_known_values_through(settings: Any) -> None:
    settings.allow_insecure_secrets = True
    settings.jwt_secret = SecretStr(OLD_JWT_DEFAULT)
    settings.admin_password = SecretStr("cairn-local-only")
    check_startup_secrets()
    settings.jwt_secret = SecretStr("x" * 31)  # too short to sign with, flag or not
    with pytest.raises(InsecureSecretError):
        check_startup_secrets()


def test_the_api_does_not_start_with_the_old_compose_default(settings: Any) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings.jwt_secret = SecretStr(OLD_JWT_DEFAULT)
    with pytest.raises(InsecureSecretError), TestClient(create_app()):
        pass

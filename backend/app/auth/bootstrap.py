"""Startup duties (run from the API's lifespan, each in a session_scope): the signing key
must exist; the first admin from ADMIN_EMAIL and ADMIN_PASSWORD; and the built-in local
admin of single-user mode: active while AUTH_ENABLED=false, and deactivated, with every API
key and refresh token minted for it revoked, as soon as the API starts with auth on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth import repository, service, users
from app.auth.models import User
from app.auth.secret import jwt_secret
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger

log = get_logger(__name__)


def local_user(session: Session) -> User:
    """The built-in local admin (inserted, not committed, if missing: startup creates it in
    single-user mode). It cannot log in with a password."""
    return repository.get_or_insert_local_user(session)


def on_startup() -> None:
    """Called from the API's lifespan. Fails fast on a missing production secret."""
    settings = get_settings()
    jwt_secret()
    if not settings.auth_enabled:
        with session_scope() as session:
            service.activate_local_user(session)
        log.warning(
            "AUTH_DISABLED",
            message="AUTH_ENABLED=false: every request acts as the local admin with NO "
            "authentication. Use only on a machine nobody else can reach.",
        )
        return
    with session_scope() as session:
        locked = service.lock_local_user(session)
    if locked.deactivated or locked.api_keys_revoked or locked.refresh_tokens_revoked:
        log.warning(
            "local_user_locked",
            message="Authentication is on: the single-user-mode admin (local@cairn.local) is "
            "deactivated and its API keys and refresh tokens are revoked.",
            api_keys_revoked=locked.api_keys_revoked,
            refresh_tokens_revoked=locked.refresh_tokens_revoked,
        )
    if settings.admin_email and settings.admin_password:
        with session_scope() as session:
            service.ensure_first_admin(
                session, settings.admin_email, settings.admin_password.get_secret_value()
            )
        return
    with session_scope() as session:
        if users.count_real_users(session) == 0:
            log.warning(
                "no_users",
                message="No user exists: set ADMIN_EMAIL and ADMIN_PASSWORD or run "
                "`cairn create-user --email ... --password ... --role admin`.",
            )

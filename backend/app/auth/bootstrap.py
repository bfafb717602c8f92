"""Startup duties: the signing key must exist, the first admin from ADMIN_EMAIL and
ADMIN_PASSWORD, and in single-user mode (AUTH_ENABLED=false) the built-in local admin."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth import users
from app.auth.models import LOCAL_USER_EMAIL, Role, User
from app.auth.passwords import UNUSABLE
from app.auth.secret import jwt_secret
from app.collections.models import Collection
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger

log = get_logger(__name__)


def local_user(session: Session) -> User:
    """The built-in local admin (created on first use). It cannot log in with a password."""
    user = session.scalar(select(User).where(User.email == LOCAL_USER_EMAIL))
    if user is None:
        from sqlalchemy.dialects.postgresql import insert

        session.execute(
            insert(User)
            .values(id=uuid.uuid4(), email=LOCAL_USER_EMAIL, password_hash=UNUSABLE,
                    role=Role.admin.value, is_active=True)
            .on_conflict_do_nothing()
        )
        session.commit()
        user = session.scalar(select(User).where(User.email == LOCAL_USER_EMAIL))
    assert user is not None
    return user


def ensure_first_admin(session: Session, email: str, password: str) -> User | None:
    """Create the first admin if there is no real user yet. Collections held by the local
    user (single-user mode, or data from before accounts existed) move to this admin."""
    if users.count_real_users(session) > 0:
        return None
    admin = users.create_user(session, email, password, Role.admin)
    local = session.scalar(select(User).where(User.email == LOCAL_USER_EMAIL))
    if local is not None:
        session.execute(
            update(Collection).where(Collection.owner_id == local.id).values(owner_id=admin.id)
        )
    session.commit()
    log.info("first_admin_created", email=admin.email)
    return admin


def on_startup() -> None:
    """Called from the API's lifespan. Fails fast on a missing production secret."""
    settings = get_settings()
    jwt_secret()
    if not settings.auth_enabled:
        with session_scope() as session:
            local_user(session)
        log.warning(
            "AUTH_DISABLED",
            message="AUTH_ENABLED=false: every request acts as the local admin with NO "
            "authentication. Use only on a machine nobody else can reach.",
        )
        return
    if settings.admin_email and settings.admin_password:
        with session_scope() as session:
            ensure_first_admin(
                session, settings.admin_email, settings.admin_password.get_secret_value()
            )
    else:
        with session_scope() as session:
            if users.count_real_users(session) == 0:
                log.warning(
                    "no_users",
                    message="No user exists: set ADMIN_EMAIL and ADMIN_PASSWORD or run "
                    "`cairn create-user --email ... --password ... --role admin`.",
                )

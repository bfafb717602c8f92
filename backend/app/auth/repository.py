"""Queries of the accounts domain: users, refresh tokens and API keys. Nothing here commits
(app.auth.service owns the transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.auth.models import LOCAL_USER_EMAIL, ApiKey, RefreshToken, Role, User
from app.auth.passwords import UNUSABLE

# --- users ---------------------------------------------------------------------------------


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def user_by_id(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def list_real_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.email != LOCAL_USER_EMAIL).order_by(User.email))
    )


def count_real_users(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(User).where(User.email != LOCAL_USER_EMAIL)
    ) or 0


def find_local_user(session: Session) -> User | None:
    return session.scalar(select(User).where(User.email == LOCAL_USER_EMAIL))


def get_or_insert_local_user(session: Session) -> User:
    """The built-in local admin, inserted (not committed) when missing; concurrent inserts
    are ignored. Its password hash never verifies."""
    user = find_local_user(session)
    if user is None:
        session.execute(
            insert(User)
            .values(id=uuid.uuid4(), email=LOCAL_USER_EMAIL, password_hash=UNUSABLE,
                    role=Role.admin.value, is_active=True)
            .on_conflict_do_nothing()
        )
        user = find_local_user(session)
    assert user is not None
    return user


# --- API keys ------------------------------------------------------------------------------


def api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


def api_keys_of(session: Session, user_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
    )


def api_key_of(session: Session, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))


def touch_api_key(session: Session, key_id: uuid.UUID, now: datetime, before: datetime) -> None:
    """Set last_used_at = now unless it is already later than `before` (conditional update:
    concurrent requests write at most once per interval)."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < before))
        .values(last_used_at=now)
    )


def revoke_api_keys_of(session: Session, user_id: uuid.UUID, now: datetime) -> int:
    """Revoke every live key of a user; the number revoked."""
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- refresh tokens ------------------------------------------------------------------------


def refresh_token_for_update(session: Session, jti: uuid.UUID) -> RefreshToken | None:
    return session.scalar(select(RefreshToken).where(RefreshToken.jti == jti).with_for_update())


def refresh_token(session: Session, jti: uuid.UUID) -> RefreshToken | None:
    return session.get(RefreshToken, jti)


def revoke_refresh_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_refresh_tokens_of(session: Session, user_id: uuid.UUID, now: datetime) -> int:
    """Revoke every live refresh token of a user; the number revoked."""
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)

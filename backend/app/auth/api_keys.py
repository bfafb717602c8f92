"""API keys: "ck_" + an 8-character visible prefix + a 40-character secret. Only the sha256
of the whole key is stored (the key is high-entropy, so a slow hash adds nothing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import ApiKey, User
from app.core.config import get_settings
from app.core.errors import NotFound, Unauthorized, Unprocessable

KEY_MARK = "ck_"
PREFIX_LEN = 8
_ALPHABET = string.ascii_lowercase + string.digits


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(credential: str) -> bool:
    return credential.startswith(KEY_MARK)


def create(session: Session, user_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    """A new key for the user (committed). The plain key is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Unprocessable("An API key name is 1 to 100 characters.")
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LEN))
    plain = f"{KEY_MARK}{prefix}{secrets.token_urlsafe(30)}"
    row = ApiKey(id=uuid.uuid4(), user_id=user_id, name=name, prefix=prefix,
                 key_hash=_digest(plain))
    session.add(row)
    session.commit()
    return row, plain


def list_for(session: Session, user_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
    )


def revoke(session: Session, user_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Revoke one of the user's own keys; another user's key is 'not found'."""
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
    if row is None:
        raise NotFound(f"No API key {key_id}.")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    session.commit()


def authenticate(session: Session, plain: str) -> tuple[ApiKey, User]:
    """The live key and its active user, or Unauthorized. Touches last_used_at (throttled)."""
    prefix = plain[len(KEY_MARK): len(KEY_MARK) + PREFIX_LEN]
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    if row is None or not hmac.compare_digest(row.key_hash, _digest(plain)):
        raise Unauthorized("Invalid or expired credentials.")
    if row.revoked_at is not None:
        raise Unauthorized("The API key was revoked.", code="api_key_revoked")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Invalid or expired credentials.")
    _touch(session, row)
    return row, user


def _touch(session: Session, row: ApiKey) -> None:
    now = datetime.now(UTC)
    interval = timedelta(seconds=get_settings().api_key_touch_interval_s)
    if row.last_used_at is not None and now - row.last_used_at < interval:
        return
    # Conditional update: concurrent requests write at most once per interval.
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == row.id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - interval))
        .values(last_used_at=now)
    )
    session.commit()

"""API keys: "ck_" + an 8-character visible prefix + a 40-character secret. Only the sha256
of the whole key is stored (the key is high-entropy, so a slow hash adds nothing).
Nothing here commits: app.auth.service owns the transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import uuid

from sqlalchemy.orm import Session

from app.auth import repository
from app.auth.models import ApiKey, User
from app.core.errors import Unauthorized, Unprocessable

KEY_MARK = "ck_"
PREFIX_LEN = 8
_ALPHABET = string.ascii_lowercase + string.digits


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(credential: str) -> bool:
    return credential.startswith(KEY_MARK)


def new_key(session: Session, user_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    """A new key row for the user (added, not committed) and the plain key, shown once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Unprocessable("An API key name is 1 to 100 characters.")
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LEN))
    plain = f"{KEY_MARK}{prefix}{secrets.token_urlsafe(30)}"
    row = ApiKey(id=uuid.uuid4(), user_id=user_id, name=name, prefix=prefix,
                 key_hash=_digest(plain))
    session.add(row)
    session.flush()
    return row, plain


def authenticate(session: Session, plain: str) -> tuple[ApiKey, User]:
    """The live key and its active user, or Unauthorized. Commits nothing in `session`:
    last_used_at is written (at most once per API_KEY_TOUCH_INTERVAL_S) by
    app.auth.service.touch_api_key in a short transaction of its own, so a long request
    never holds the key's row lock."""
    prefix = plain[len(KEY_MARK): len(KEY_MARK) + PREFIX_LEN]
    row = repository.api_key_by_prefix(session, prefix) if prefix else None
    if row is None or not hmac.compare_digest(row.key_hash, _digest(plain)):
        raise Unauthorized("Invalid or expired credentials.")
    if row.revoked_at is not None:
        raise Unauthorized("The API key was revoked.", code="api_key_revoked")
    user = repository.user_by_id(session, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Invalid or expired credentials.")
    from app.auth import service  # service imports this module

    service.touch_api_key(row.id, row.last_used_at)
    return row, user

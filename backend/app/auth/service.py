"""The accounts domain's units of work. Every public function here is one transaction and
the only place in app.auth that commits (routers call one of these; helpers and
app.auth.repository never commit). Work outside a request uses core.db.session_scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.auth import api_keys, principal_cache, repository, tokens, users
from app.auth.models import ApiKey, Role, User
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import NotFound, Unauthorized, Unprocessable
from app.core.logging import get_logger

log = get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


# --- login sessions ------------------------------------------------------------------------


def login(session: Session, email: str, password: str) -> tokens.TokenPair:
    user = users.authenticate(session, email, password)
    pair = tokens.issue_pair(session, user)
    session.commit()
    return pair


def refresh(session: Session, refresh_token: str) -> tokens.TokenPair:
    """Spend a refresh token for a new pair. Presenting a spent one again revokes its family
    (committed) before the refusal."""
    claims = tokens.decode(refresh_token, tokens.REFRESH)
    row = repository.refresh_token_for_update(session, tokens.jti_of(claims))
    if row is None:
        raise Unauthorized("Invalid or expired credentials.")
    if row.revoked_at is not None:
        session.rollback()
        raise Unauthorized("The refresh token was revoked.", code="token_revoked")
    if row.used_at is not None:
        # Someone holds a copy of a spent token: end the whole login session.
        repository.revoke_refresh_family(session, row.family_id, _now())
        session.commit()
        log.warning("refresh_token_reuse", user_id=str(row.user_id), family=str(row.family_id))
        raise Unauthorized("The refresh token was already used.", code="token_reused")
    user = repository.user_by_id(session, row.user_id)
    if user is None or not user.is_active:
        session.rollback()
        raise Unauthorized("Invalid or expired credentials.")
    row.used_at = _now()
    pair = tokens.issue_pair(session, user, row.family_id)
    session.commit()
    return pair


def logout(session: Session, refresh_token: str, user_id: uuid.UUID) -> None:
    """Revoke the family of a refresh token of this user. Unknown tokens are ignored."""
    try:
        claims = tokens.decode(refresh_token, tokens.REFRESH)
        jti = tokens.jti_of(claims)
    except Unauthorized:
        return
    row = repository.refresh_token(session, jti)
    if row is not None and row.user_id == user_id:
        repository.revoke_refresh_family(session, row.family_id, _now())
        session.commit()


# --- API keys ------------------------------------------------------------------------------


def create_api_key(session: Session, user_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    """A new key (committed) and its plain text, returned once and never stored."""
    row, plain = api_keys.new_key(session, user_id, name)
    session.commit()
    session.refresh(row)
    return row, plain


def list_api_keys(session: Session, user_id: uuid.UUID) -> list[ApiKey]:
    return repository.api_keys_of(session, user_id)


def revoke_api_key(session: Session, user_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Revoke one of the user's own keys; another user's key is 'not found'."""
    row = repository.api_key_of(session, user_id, key_id)
    if row is None:
        raise NotFound(f"No API key {key_id}.")
    if row.revoked_at is None:
        row.revoked_at = _now()
    session.commit()
    principal_cache.forget_all()  # refused at once by this process (others: within the TTL)


def touch_api_key(key_id: uuid.UUID, last_used_at: datetime | None) -> None:
    """Record that a key was used: at most once per API_KEY_TOUCH_INTERVAL_S, in a short
    transaction of its own (never the request's), so no request holds the key's row lock."""
    now = _now()
    interval = timedelta(seconds=get_settings().api_key_touch_interval_s)
    if last_used_at is not None and now - last_used_at < interval:
        return
    with session_scope() as session:
        repository.touch_api_key(session, key_id, now, now - interval)


# --- users ---------------------------------------------------------------------------------


def create_user(session: Session, email: str, password: str, role: str = Role.member) -> User:
    user = users.create_user(session, email, password, role)
    session.commit()
    return user


def me(session: Session, user_id: uuid.UUID) -> User:
    """The caller's own account (the built-in local admin included)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users(session: Session) -> list[User]:
    return users.list_users(session)


def update_user(
    session: Session, acting_user_id: uuid.UUID, user_id: uuid.UUID,
    is_active: bool | None, role: str | None,
) -> User:
    """An admin (de)activates or re-roles a user. Deactivating also revokes the user's
    refresh tokens (its access tokens and API keys stop at the next request: they are
    checked against is_active)."""
    user = users.get(session, user_id)
    if user.id == acting_user_id and (is_active is False or role == Role.member):
        raise Unprocessable("You cannot deactivate or demote yourself.")
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            repository.revoke_refresh_tokens_of(session, user.id, _now())
    session.commit()
    principal_cache.forget_all()  # a cached principal may carry the old role or activity
    return user


def ensure_first_admin(session: Session, email: str, password: str) -> User | None:
    """Create the first admin if there is no real user yet. Collections held by the local
    user (single-user mode, or data from before accounts existed) move to this admin."""
    from app.collections import repository as collections_repo  # collections imports auth

    if users.count_real_users(session) > 0:
        return None
    admin = users.create_user(session, email, password, Role.admin)
    local = repository.find_local_user(session)
    if local is not None:
        collections_repo.reassign_owner(session, local.id, admin.id)
    session.commit()
    log.info("first_admin_created", email=admin.email)
    return admin


# --- the built-in local user (single-user mode) --------------------------------------------


@dataclass(frozen=True)
class LocalUserLock:
    deactivated: bool
    api_keys_revoked: int
    refresh_tokens_revoked: int


def activate_local_user(session: Session) -> User:
    """Single-user mode: the local admin exists and is active."""
    user = repository.get_or_insert_local_user(session)
    user.is_active = True
    session.commit()
    return user


def lock_local_user(session: Session) -> LocalUserLock:
    """Auth is on: the local admin is deactivated and every API key and refresh token minted
    for it while auth was off is revoked, so nothing from single-user mode stays a way in."""
    user = repository.find_local_user(session)
    if user is None:
        return LocalUserLock(False, 0, 0)
    now = _now()
    was_active = user.is_active
    user.is_active = False
    keys = repository.revoke_api_keys_of(session, user.id, now)
    refresh_tokens = repository.revoke_refresh_tokens_of(session, user.id, now)
    session.commit()
    principal_cache.forget_all()
    return LocalUserLock(was_active, keys, refresh_tokens)


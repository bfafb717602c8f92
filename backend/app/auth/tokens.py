"""Access tokens (short-lived JWTs, stateless) and refresh tokens (JWTs whose jti is stored:
rotated on every use; a second use of the same one revokes its whole family)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import RefreshToken, User
from app.auth.secret import jwt_secret
from app.core.config import get_settings
from app.core.errors import Unauthorized
from app.core.logging import get_logger

log = get_logger(__name__)

ALGORITHM = "HS256"
ISSUER = "cairn"
ACCESS = "access"
REFRESH = "refresh"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def _now() -> datetime:
    return datetime.now(UTC)


def _encode(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, jwt_secret(), algorithm=ALGORITHM)


def decode(token: str, expected_type: str) -> dict[str, Any]:
    """The verified claims of a token of the given type; Unauthorized for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt_secret(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid or expired credentials.") from exc
    if claims.get("typ") != expected_type:
        raise Unauthorized("Invalid or expired credentials.")
    return claims


def user_id_of(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("Invalid or expired credentials.") from exc


def issue_access(user: User) -> tuple[str, int]:
    ttl = get_settings().access_token_ttl_s
    now = _now()
    token = _encode({
        "iss": ISSUER, "sub": str(user.id), "typ": ACCESS, "role": user.role,
        "iat": now, "exp": now + timedelta(seconds=ttl),
    })
    return token, ttl


def _issue_refresh(session: Session, user_id: uuid.UUID, family_id: uuid.UUID) -> str:
    now = _now()
    expires = now + timedelta(seconds=get_settings().refresh_token_ttl_s)
    jti = uuid.uuid4()
    session.add(RefreshToken(jti=jti, family_id=family_id, user_id=user_id, expires_at=expires))
    return _encode({
        "iss": ISSUER, "sub": str(user_id), "typ": REFRESH, "jti": str(jti),
        "fam": str(family_id), "iat": now, "exp": expires,
    })


def issue_pair(session: Session, user: User, family_id: uuid.UUID | None = None) -> TokenPair:
    """A new access token and a refresh token (a new family at login). Caller commits."""
    access, ttl = issue_access(user)
    refresh = _issue_refresh(session, user.id, family_id or uuid.uuid4())
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl)


def revoke_family(session: Session, family_id: uuid.UUID) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


def _stored(session: Session, claims: dict[str, Any]) -> RefreshToken:
    try:
        jti = uuid.UUID(str(claims["jti"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("Invalid or expired credentials.") from exc
    row = session.scalar(select(RefreshToken).where(RefreshToken.jti == jti).with_for_update())
    if row is None:
        raise Unauthorized("Invalid or expired credentials.")
    return row


def rotate(session: Session, refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair. Commits (also when it detects reuse)."""
    claims = decode(refresh_token, REFRESH)
    row = _stored(session, claims)
    if row.revoked_at is not None:
        session.rollback()
        raise Unauthorized("The refresh token was revoked.", code="token_revoked")
    if row.used_at is not None:
        # Someone holds a copy of a spent token: end the whole login session.
        revoke_family(session, row.family_id)
        session.commit()
        log.warning("refresh_token_reuse", user_id=str(row.user_id), family=str(row.family_id))
        raise Unauthorized("The refresh token was already used.", code="token_reused")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        session.rollback()
        raise Unauthorized("Invalid or expired credentials.")
    row.used_at = _now()
    pair = issue_pair(session, user, row.family_id)
    session.commit()
    return pair


def revoke(session: Session, refresh_token: str, user_id: uuid.UUID) -> None:
    """Log out: revoke the family of a refresh token of this user. Unknown tokens are ignored."""
    try:
        claims = decode(refresh_token, REFRESH)
    except Unauthorized:
        return
    jti = claims.get("jti")
    try:
        row = session.get(RefreshToken, uuid.UUID(str(jti)))
    except ValueError:
        return
    if row is not None and row.user_id == user_id:
        revoke_family(session, row.family_id)
        session.commit()

"""Access tokens (short-lived JWTs, stateless) and refresh tokens (JWTs whose jti is stored:
rotated on every use; a second use of the same one revokes its whole family). Minting and
decoding only: rotation, logout and their commits are in app.auth.service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.orm import Session

from app.auth.models import RefreshToken, User
from app.auth.secret import jwt_secret
from app.core.config import get_settings
from app.core.errors import Unauthorized

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
    """A new access token and a refresh token (a new family at login). Not committed."""
    access, ttl = issue_access(user)
    refresh = _issue_refresh(session, user.id, family_id or uuid.uuid4())
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl)


def jti_of(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims["jti"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("Invalid or expired credentials.") from exc


def subject_if_valid(token: str, expected_type: str) -> str | None:
    """The subject of a validly signed, unexpired token of this type; None otherwise."""
    try:
        return str(decode(token, expected_type)["sub"])
    except Unauthorized:
        return None

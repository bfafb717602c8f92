"""Who is calling: `get_principal` reads `Authorization: Bearer <jwt or API key>` or
`X-API-Key`, and is a dependency of every /api/v1 route except login and refresh (see
app.auth.routes.protect). With AUTH_ENABLED=false every request is the built-in local admin.

The request guard (app.core.request_guard) authenticates protected requests before their body
is read and leaves the Principal in the request state under PRINCIPAL_STATE_KEY;
`get_principal` then reuses it instead of authenticating a second time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth import api_keys, tokens
from app.auth.models import Role, User
from app.core.config import get_settings
from app.core.db import get_db
from app.core.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="An access token (JWT) or an API key.")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

PRINCIPAL_STATE_KEY = "principal"


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str
    role: str
    via: Literal["token", "api_key", "local"]
    api_key_id: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @classmethod
    def of(cls, user: User, via: Literal["token", "api_key", "local"],
           api_key_id: uuid.UUID | None = None) -> Principal:
        return cls(user_id=user.id, email=user.email, role=user.role, via=via,
                   api_key_id=api_key_id)


def authenticate_credential(session: Session, credential: str) -> Principal:
    if api_keys.looks_like_key(credential):
        key, user = api_keys.authenticate(session, credential)
        return Principal.of(user, "api_key", key.id)
    claims = tokens.decode(credential, tokens.ACCESS)
    found = session.get(User, tokens.user_id_of(claims))
    if found is None or not found.is_active:
        raise Unauthorized("Invalid or expired credentials.")
    return Principal.of(found, "token")


def get_principal(
    request: Request,
    db: Annotated[Session, Depends(get_db)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal:
    already = getattr(request.state, PRINCIPAL_STATE_KEY, None)
    if isinstance(already, Principal):
        return already  # authenticated by the request guard
    if not get_settings().auth_enabled:
        from app.auth.bootstrap import local_user

        principal = Principal.of(local_user(db), "local")
    else:
        credential = bearer.credentials if bearer is not None else api_key
        if not credential:
            raise Unauthorized("Authentication required.")
        principal = authenticate_credential(db, credential.strip())
    setattr(request.state, PRINCIPAL_STATE_KEY, principal)
    return principal


def require_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This needs the admin role.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]

"""/api/v1/auth (login, refresh, logout), /api/v1/users and /api/v1/api-keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.orm import Session

from app.auth import api_keys, tokens, users
from app.auth.models import ApiKey, User
from app.auth.principal import AdminPrincipal, CurrentPrincipal
from app.auth.ratelimit import limit_login
from app.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    RefreshIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from app.core.db import get_db
from app.core.errors import Unprocessable

DB = Annotated[Session, Depends(get_db)]

# Public: the only /api/v1 routes without get_principal (see app.auth.routes.PUBLIC_ROUTES).
public_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/v1/users", tags=["users"])
keys_router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])


def _pair(pair: tokens.TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                    token_type=pair.token_type, expires_in=pair.expires_in)


@public_router.post("/login", response_model=TokenOut, dependencies=[Depends(limit_login)])
def login(db: DB, body: LoginIn) -> TokenOut:
    user = users.authenticate(db, body.email, body.password)
    pair = tokens.issue_pair(db, user)
    db.commit()
    return _pair(pair)


@public_router.post("/refresh", response_model=TokenOut, dependencies=[Depends(limit_login)])
def refresh(db: DB, body: RefreshIn) -> TokenOut:
    return _pair(tokens.rotate(db, body.refresh_token))


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(db: DB, principal: CurrentPrincipal, body: RefreshIn) -> Response:
    """Revoke the login session of this refresh token (it and every rotation of it)."""
    tokens.revoke(db, body.refresh_token, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me", response_model=UserOut)
def me(db: DB, principal: CurrentPrincipal) -> User:
    user = db.get(User, principal.user_id)
    assert user is not None
    return user


@users_router.get("", response_model=list[UserOut])
def list_users(db: DB, _: AdminPrincipal) -> list[User]:
    return users.list_users(db)


@users_router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(db: DB, _: AdminPrincipal, body: UserIn) -> User:
    user = users.create_user(db, body.email, body.password, body.role)
    db.commit()
    return user


@users_router.patch("/{user_id}", response_model=UserOut)
def update_user(db: DB, admin: AdminPrincipal, user_id: uuid.UUID, body: UserPatch) -> User:
    user = users.get(db, user_id)
    if user.id == admin.user_id and (body.is_active is False or body.role == "member"):
        raise Unprocessable("You cannot deactivate or demote yourself.")
    if body.is_active is not None:
        user.is_active = body.is_active
    if body.role is not None:
        user.role = body.role
    db.commit()
    return user


def _key_out(row: ApiKey) -> dict[str, object]:
    return {"id": row.id, "name": row.name, "prefix": f"{api_keys.KEY_MARK}{row.prefix}",
            "created_at": row.created_at, "last_used_at": row.last_used_at,
            "revoked": row.revoked_at is not None}


@keys_router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(db: DB, principal: CurrentPrincipal, body: ApiKeyIn) -> ApiKeyCreated:
    row, plain = api_keys.create(db, principal.user_id, body.name)
    db.refresh(row)
    return ApiKeyCreated.model_validate({**_key_out(row), "key": plain})


@keys_router.get("", response_model=list[ApiKeyOut])
def list_api_keys(db: DB, principal: CurrentPrincipal) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(_key_out(r)) for r in api_keys.list_for(db, principal.user_id)]


@keys_router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(db: DB, principal: CurrentPrincipal, key_id: uuid.UUID) -> Response:
    api_keys.revoke(db, principal.user_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""/api/v1/auth (login, refresh, logout), /api/v1/users and /api/v1/api-keys. Each route
calls one app.auth.service function (which commits); routers never commit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.orm import Session

from app.auth import api_keys, ratelimit, service, tokens
from app.auth.models import ApiKey, User
from app.auth.principal import AdminPrincipal, CurrentPrincipal
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

DB = Annotated[Session, Depends(get_db)]

# Public: the only /api/v1 routes without get_principal (see app.auth.routes.PUBLIC_ROUTES).
public_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/v1/users", tags=["users"])
keys_router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])


def _pair(pair: tokens.TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                    token_type=pair.token_type, expires_in=pair.expires_in)


@public_router.post("/login", response_model=TokenOut)
def login(request: Request, db: DB, body: LoginIn) -> TokenOut:
    ratelimit.limit_login(request, body.email)
    return _pair(service.login(db, body.email, body.password))


@public_router.post("/refresh", response_model=TokenOut)
def refresh(request: Request, db: DB, body: RefreshIn) -> TokenOut:
    ratelimit.limit_login(request, tokens.subject_if_valid(body.refresh_token, tokens.REFRESH))
    return _pair(service.refresh(db, body.refresh_token))


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(db: DB, principal: CurrentPrincipal, body: RefreshIn) -> Response:
    """Revoke the login session of this refresh token (it and every rotation of it)."""
    service.logout(db, body.refresh_token, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me", response_model=UserOut)
def me(db: DB, principal: CurrentPrincipal) -> User:
    return service.me(db, principal.user_id)


@users_router.get("", response_model=list[UserOut])
def list_users(db: DB, _: AdminPrincipal) -> list[User]:
    return service.list_users(db)


@users_router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(db: DB, _: AdminPrincipal, body: UserIn) -> User:
    return service.create_user(db, body.email, body.password, body.role)


@users_router.patch("/{user_id}", response_model=UserOut)
def update_user(db: DB, admin: AdminPrincipal, user_id: uuid.UUID, body: UserPatch) -> User:
    return service.update_user(db, admin.user_id, user_id, body.is_active, body.role)


def _key_out(row: ApiKey) -> dict[str, object]:
    return {"id": row.id, "name": row.name, "prefix": f"{api_keys.KEY_MARK}{row.prefix}",
            "created_at": row.created_at, "last_used_at": row.last_used_at,
            "revoked": row.revoked_at is not None}


@keys_router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(db: DB, principal: CurrentPrincipal, body: ApiKeyIn) -> ApiKeyCreated:
    row, plain = service.create_api_key(db, principal.user_id, body.name)
    return ApiKeyCreated.model_validate({**_key_out(row), "key": plain})


@keys_router.get("", response_model=list[ApiKeyOut])
def list_api_keys(db: DB, principal: CurrentPrincipal) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(_key_out(r))
            for r in service.list_api_keys(db, principal.user_id)]


@keys_router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(db: DB, principal: CurrentPrincipal, key_id: uuid.UUID) -> Response:
    service.revoke_api_key(db, principal.user_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

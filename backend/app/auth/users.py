"""Users: create, look up, authenticate by password, list. Nothing here commits: the
callers are app.auth.service functions (or a session_scope in the CLI and at startup)."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import repository
from app.auth.models import LOCAL_USER_EMAIL, Role, User
from app.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    burn_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.core.errors import Conflict, NotFound, Unauthorized, Unprocessable

BAD_LOGIN = "Invalid email or password."


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if "@" not in value or len(value) > 320 or value.startswith("@") or value.endswith("@"):
        raise Unprocessable("Not a valid email address.")
    return value


def by_email(session: Session, email: str) -> User | None:
    return repository.user_by_email(session, email)


def create_user(session: Session, email: str, password: str, role: str = Role.member) -> User:
    """Create a user (flushed, not committed). Conflict if the email is taken, in any letter
    case. Collection shares addressed to this email (invitations) now grant access."""
    from app.collections import repository as collections_repo  # collections imports auth

    address = normalize_email(email)
    if address == LOCAL_USER_EMAIL:
        raise Unprocessable("That address is reserved.")
    if role not in (Role.admin, Role.member):
        raise Unprocessable("role is 'admin' or 'member'.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if by_email(session, address) is not None:
        raise Conflict("A user with that email exists.")
    user = User(id=uuid.uuid4(), email=address, password_hash=hash_password(password),
                role=str(role), is_active=True)
    try:
        with session.begin_nested():  # a savepoint: a concurrent create loses only this
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("A user with that email exists.") from exc
    collections_repo.bind_invitations(session, user.id, address)
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with this email and password; one message for every failure."""
    user = by_email(session, email)
    if user is None:
        burn_time(password)
        raise Unauthorized(BAD_LOGIN, code="invalid_credentials")
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthorized(BAD_LOGIN, code="invalid_credentials")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get(session: Session, user_id: uuid.UUID) -> User:
    user = repository.user_by_id(session, user_id)
    if user is None or user.email == LOCAL_USER_EMAIL:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users(session: Session) -> list[User]:
    return repository.list_real_users(session)


def count_real_users(session: Session) -> int:
    return repository.count_real_users(session)

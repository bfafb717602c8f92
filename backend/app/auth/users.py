"""Users: create, look up, authenticate by password, list, (de)activate."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, email: str, password: str, role: str = Role.member) -> User:
    """Create a user (not committed). Conflict if the email is taken, in any letter case."""
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
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create won
        session.rollback()
        raise Conflict("A user with that email exists.") from exc
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
    user = session.get(User, user_id)
    if user is None or user.email == LOCAL_USER_EMAIL:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.email != LOCAL_USER_EMAIL).order_by(User.email))
    )


def count_real_users(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(User).where(User.email != LOCAL_USER_EMAIL)
    ) or 0

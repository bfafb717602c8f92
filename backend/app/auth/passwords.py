"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 8
# A hash that never verifies: accounts that must not log in with a password.
UNUSABLE = "!"


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-only-for-timing")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True if the password matches. Never raises for a bad or unusable hash."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_time(password: str) -> None:
    """Spend what a real verification costs, so an unknown email takes as long as a known one."""
    verify_password(_dummy_hash(), password)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False

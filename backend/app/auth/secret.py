"""The HS256 signing key: from JWT_SECRET, or (outside production) generated once and kept
in <data_dir>/run/jwt_secret so the API processes and the workers sign and verify alike.

A JWT_SECRET that is short, published (the old compose default) or of low entropy (one
character repeated, a short pattern repeated) is refused, and so is the old compose default
ADMIN_PASSWORD (and, in production, one under 12 characters): `check_startup_secrets` stops
the API at startup. ALLOW_INSECURE_SECRETS=true lets a development machine start anyway."""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from functools import lru_cache
from pathlib import Path

from app.core.config import get_settings

MIN_SECRET_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12
# Shannon entropy of the characters, times the length: a 32-character hex string has ~120.
MIN_SECRET_BITS = 100
# Values that were published as defaults (docker-compose.yml before issue 7).
KNOWN_JWT_SECRETS = frozenset({"local-only-jwt-secret-change-me-0123456789abcdef"})
KNOWN_ADMIN_PASSWORDS = frozenset({"cairn-local-only"})
_HOW_TO = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class MissingSecretError(RuntimeError):
    pass


class InsecureSecretError(MissingSecretError):
    pass


def _estimated_bits(value: str) -> float:
    counts = Counter(value)
    size = len(value)
    per_char = -sum(n / size * math.log2(n / size) for n in counts.values())
    return per_char * size


def _is_periodic(value: str) -> bool:
    """True when `value` is a shorter string repeated ("abcabcabc...")."""
    size = len(value)
    return any(
        value == (value[:period] * (size // period + 1))[:size]
        for period in range(1, size // 2 + 1)
    )


def jwt_secret_problem(value: str) -> str | None:
    """Why `value` must not sign tokens, or None."""
    if value in KNOWN_JWT_SECRETS:
        return "JWT_SECRET is a published default value"
    if len(value) < MIN_SECRET_LENGTH:
        return f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters"
    if _is_periodic(value) or _estimated_bits(value) < MIN_SECRET_BITS:
        return "JWT_SECRET has too little entropy (a repeated character or pattern)"
    return None


def admin_password_problem(value: str, production: bool) -> str | None:
    if value in KNOWN_ADMIN_PASSWORDS:
        return "ADMIN_PASSWORD is a published default value"
    if production and len(value) < MIN_ADMIN_PASSWORD_LENGTH:
        return f"ADMIN_PASSWORD must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters"
    return None


def check_startup_secrets() -> None:
    """Called first by the API's lifespan: raises InsecureSecretError (the API does not start)
    for a weak JWT_SECRET or ADMIN_PASSWORD, unless ALLOW_INSECURE_SECRETS=true."""
    settings = get_settings()
    if settings.admin_password is not None and not settings.allow_insecure_secrets:
        problem = admin_password_problem(settings.admin_password.get_secret_value(),
                                         settings.environment == "production")
        if problem:
            raise InsecureSecretError(
                f"{problem}: choose another (./start.sh --docker and make up generate one into "
                ".env), or set ALLOW_INSECURE_SECRETS=true on a development machine."
            )
    jwt_secret()


def jwt_secret() -> str:
    settings = get_settings()
    configured = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    return _load(configured, str(settings.data_dir / "run" / "jwt_secret"),
                 settings.environment == "production", settings.allow_insecure_secrets)


@lru_cache(maxsize=4)
def _load(configured: str | None, path: str, production: bool,
          allow_insecure: bool = False) -> str:
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise InsecureSecretError(
                f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters ({_HOW_TO})."
            )
        problem = jwt_secret_problem(configured)
        if problem and not allow_insecure:
            raise InsecureSecretError(
                f"{problem}: generate one ({_HOW_TO}; ./start.sh --docker and make up do it), "
                "or set ALLOW_INSECURE_SECRETS=true on a development machine."
            )
        return configured
    if production:
        raise MissingSecretError(
            f"JWT_SECRET is required when ENVIRONMENT=production (e.g. {_HOW_TO})."
        )
    return _read_or_create(Path(path))


def _read_or_create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Write aside, then link into place: link fails if another process won the race,
        # and nobody ever reads a half-written file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise MissingSecretError(
            f"{path} holds a secret shorter than {MIN_SECRET_LENGTH} characters."
        )
    return value

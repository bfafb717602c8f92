"""The HS256 signing key: from JWT_SECRET, or (outside production) generated once and kept
in <data_dir>/run/jwt_secret so the API processes and the workers sign and verify alike."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from app.core.config import get_settings

MIN_SECRET_LENGTH = 32


class MissingSecretError(RuntimeError):
    pass


def jwt_secret() -> str:
    settings = get_settings()
    configured = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    return _load(configured, str(settings.data_dir / "run" / "jwt_secret"),
                 settings.environment == "production")


@lru_cache(maxsize=4)
def _load(configured: str | None, path: str, production: bool) -> str:
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise MissingSecretError(f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters.")
        return configured
    if production:
        raise MissingSecretError(
            "JWT_SECRET is required when ENVIRONMENT=production "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')."
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

"""The transaction rule in the accounts and collections domains: only service.py commits;
authenticating an API key commits nothing of the caller's session (its last_used_at touch
is a short transaction of its own)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.auth import api_keys
from app.auth.models import ApiKey, User
from app.core.db import session_scope

APP = Path(__file__).resolve().parents[1] / "app"
COMMIT = re.compile(r"\.(commit|rollback)\(")


def test_only_service_modules_commit_in_auth_and_collections() -> None:
    offenders = [
        f"{path.relative_to(APP)}:{n}"
        for domain in ("auth", "collections")
        for path in sorted((APP / domain).glob("*.py"))
        if path.name != "service.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if COMMIT.search(line)
    ]
    assert offenders == [], offenders


def test_authenticating_a_key_commits_nothing_of_the_callers_session(make_user: Any) -> None:
    user, _ = make_user()
    with session_scope() as probe:
        probe.execute(ApiKey.__table__.update().where(ApiKey.user_id == user.id)
                      .values(last_used_at=None))
    from app.core.db import get_sessionmaker

    session = get_sessionmaker()()
    try:
        pending = session.get(User, user.id)
        assert pending is not None
        pending.role = "admin"  # an uncommitted change of the caller
        key, found = api_keys.authenticate(session, user.api_key)
        key_id = key.id
        assert found.id == user.id
        session.rollback()
    finally:
        session.close()
    with session_scope() as check:
        assert check.scalar(select(User.role).where(User.id == user.id)) == "member"
        touched = check.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))
        assert touched is not None  # the touch was committed on its own


def test_a_bad_key_is_refused_without_touching_anything(make_user: Any) -> None:
    user, _ = make_user()
    with session_scope() as session:
        try:
            api_keys.authenticate(session, user.api_key[:-4] + "xxxx")
        except Exception as exc:  # the type is asserted below
            assert type(exc).__name__ == "Unauthorized"
        else:
            raise AssertionError("a wrong key authenticated")
        keys = session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)).all()
        assert all(k.last_used_at is None for k in keys)

"""Migration 0002 on a fresh database: existing collections are adopted by the local user and
then by the first admin; it downgrades and upgrades again. Also the first-admin bootstrap,
`cairn create-user`, and where the signing key comes from."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy import create_engine, inspect, make_url, text

from alembic import command
from app.core.config import get_settings
from app.core.db import reset_engine

ALEMBIC_INI = str(Path(__file__).resolve().parents[1] / "alembic.ini")


@pytest.fixture
def fresh_db() -> Iterator[str]:
    """An empty database on the test server; the app points at it for the test."""
    settings = get_settings()
    original = settings.database_url
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(original, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(original).set(database=name).render_as_string(hide_password=False)
    with create_engine(url).begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    settings.database_url = url
    reset_engine()
    try:
        yield url
    finally:
        settings.database_url = original
        reset_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_upgrade_adopts_existing_collections_then_downgrades_and_upgrades(fresh_db: str) -> None:
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "0001")
    _run(fresh_db, "INSERT INTO collections (id, name, text_search_config) "
                   "VALUES (gen_random_uuid(), 'legacy', 'english')")
    command.upgrade(cfg, "head")
    owners = _run(fresh_db, "SELECT u.email, u.role FROM collections c "
                            "JOIN users u ON u.id = c.owner_id WHERE c.name = 'legacy'")
    assert owners == [("local@cairn.local", "admin")]

    from app.auth.service import ensure_first_admin
    from app.core.db import session_scope

    with session_scope() as session:
        admin = ensure_first_admin(session, "Boss@Example.test", "a-long-password")
        assert admin is not None
    owners = _run(fresh_db, "SELECT u.email FROM collections c JOIN users u ON u.id = c.owner_id")
    assert owners == [("boss@example.test",)]

    command.downgrade(cfg, "0001")
    assert "owner_id" not in _columns(fresh_db, "collections")
    assert _run(fresh_db, "SELECT to_regclass('users')") == [(None,)]
    assert _run(fresh_db, "SELECT name FROM collections") == [("legacy",)]
    command.upgrade(cfg, "head")
    assert "owner_id" in _columns(fresh_db, "collections")


def test_downgrade_refuses_when_two_owners_share_a_collection_name(fresh_db: str) -> None:
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "head")
    for email in ("a@x.test", "b@x.test"):
        _run(fresh_db, "INSERT INTO users (id, email, password_hash, role) "
                       "VALUES (gen_random_uuid(), :e, '!', 'member')", e=email)
        _run(fresh_db, "INSERT INTO collections (id, owner_id, name, text_search_config) "
                       "SELECT gen_random_uuid(), id, 'notes', 'english' FROM users "
                       "WHERE email = :e", e=email)
    with pytest.raises(RuntimeError, match="notes"):
        command.downgrade(cfg, "0001")
    assert "owner_id" in _columns(fresh_db, "collections")  # nothing half-done


def test_first_admin_comes_from_settings_once(fresh_db: str) -> None:
    command.upgrade(Config(ALEMBIC_INI), "head")
    from app.auth.bootstrap import on_startup

    settings = get_settings()
    settings.admin_email, settings.admin_password = "first@x.test", SecretStr("first-password")
    try:
        on_startup()
        settings.admin_email = "second@x.test"
        on_startup()  # a user exists now: nothing more is created
    finally:
        settings.admin_email, settings.admin_password = None, None
    assert _run(fresh_db, "SELECT email, role FROM users") == [("first@x.test", "admin")]


def test_cli_create_user(fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    command.upgrade(Config(ALEMBIC_INI), "head")
    secret = tmp_path / "pw"
    secret.write_text("from-a-file-123\n")
    assert main(["create-user", "--email", "root@x.test", "--password-file", str(secret),
                 "--role", "admin"]) == 0
    assert main(["create-user", "--email", "ROOT@x.test", "--password", "another-one",
                 "--role", "member"]) == 1  # taken, in any case
    assert main(["create-user", "--email", "weak@x.test", "--password", "short"]) == 1
    assert main(["create-user", "--email", "skip@x.test", "--password", "long-enough-1",
                 "--if-no-users"]) == 0
    rows = _run(fresh_db, "SELECT email, role FROM users ORDER BY email")
    assert rows == [("root@x.test", "admin")]
    from app.auth.passwords import verify_password

    stored = _run(fresh_db, "SELECT password_hash FROM users")[0][0]
    assert stored.startswith("$argon2id$") and verify_password(stored, "from-a-file-123")
    assert "not created" in capsys.readouterr().err


def test_signing_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    from app.auth.secret import _load

    path = tmp_path / "run" / "jwt_secret"
    first = _load(None, str(path), False)
    assert len(first) >= 32 and path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _load.cache_clear()
    assert _load(None, str(path), False) == first  # a restart (or a worker) reads the same


def test_production_without_a_signing_key_refuses_to_start(tmp_path: Path) -> None:
    from app.auth.secret import MissingSecretError, _load

    with pytest.raises(MissingSecretError, match="JWT_SECRET"):
        _load(None, str(tmp_path / "s"), True)
    with pytest.raises(MissingSecretError):
        _load("too-short", str(tmp_path / "s"), True)
    assert not (tmp_path / "s").exists()
    strong = "Zq3v-Pn8Lw2_Kd9Rb5Tx7Hm4Jc6Fs1Ga0Ye"  # 36 distinct characters (issue 7: no "x" * 40)
    assert _load(strong, str(tmp_path / "s"), True) == strong

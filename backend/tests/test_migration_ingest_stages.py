"""Migration 0003 on a fresh database: rows written before the stage machine existed are
normalised, the constraints hold afterwards, and it downgrades and upgrades again."""

from __future__ import annotations

import pytest
from alembic.config import Config
from sqlalchemy.exc import IntegrityError

from alembic import command
from tests.test_auth_migration import ALEMBIC_INI, _columns, _run, fresh_db  # noqa: F401

LEGACY = [  # (status, stage before 0003, stage after)
    ("ready", "done", "done"),
    ("failed", "embedding", "failed"),
    ("processing", "queued", "fetching"),
    ("queued", "retrying", "retrying"),
    ("queued", "fetching", "queued"),
]


def _seed(url: str) -> None:
    _run(url, "INSERT INTO users (id, email, password_hash, role) "
              "VALUES (gen_random_uuid(), 'm@x.test', '!', 'member')")
    _run(url, "INSERT INTO collections (id, owner_id, name, text_search_config) "
              "SELECT gen_random_uuid(), id, 'legacy', 'english' FROM users")
    for i, (status, stage, _) in enumerate(LEGACY):
        _run(url, "INSERT INTO documents (id, collection_id, filename, content_type, "
                  "size_bytes, sha256, storage_key, status, stage) SELECT gen_random_uuid(), "
                  "id, :f, 'text/plain', 1, :sha, 'k', CAST(:status AS document_status), "
                  ":stage FROM collections", f=f"d{i}", sha=f"{i:064d}", status=status,
             stage=stage)


def test_upgrade_normalises_legacy_stages_then_enforces_them(fresh_db: str) -> None:  # noqa: F811
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "0002")
    _seed(fresh_db)
    command.upgrade(cfg, "0003")
    rows = dict(_run(fresh_db, "SELECT filename, stage FROM documents"))
    assert rows == {f"d{i}": after for i, (_, _, after) in enumerate(LEGACY)}
    codes = _run(fresh_db, "SELECT error_code FROM documents WHERE status = 'failed'")
    assert codes == [("failed",)]
    with pytest.raises(IntegrityError):
        _run(fresh_db, "UPDATE documents SET stage = 'embedding' WHERE filename = 'd0'")


def test_downgrade_drops_the_constraints_and_the_code(fresh_db: str) -> None:  # noqa: F811
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "0003")
    command.downgrade(cfg, "0002")
    assert "error_code" not in _columns(fresh_db, "documents")
    _seed(fresh_db)  # the legacy pairs are storable again
    command.upgrade(cfg, "0003")
    assert dict(_run(fresh_db, "SELECT filename, stage FROM documents"))["d2"] == "fetching"


def test_upgrade_of_an_empty_database_works(fresh_db: str) -> None:  # noqa: F811
    command.upgrade(Config(ALEMBIC_INI), "head")
    assert "error_code" in _columns(fresh_db, "documents")

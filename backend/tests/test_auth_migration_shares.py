"""Migration 0004 (shares by email): existing shares get an id and their user's email;
invitations (no user yet) can be stored; downgrading drops only the invitations."""

from __future__ import annotations

from alembic.config import Config

from alembic import command
from tests.test_auth_migration import ALEMBIC_INI, _columns, _run, fresh_db  # noqa: F401

SEED = """
INSERT INTO users (id, email, password_hash, role) VALUES
  ('00000000-0000-0000-0000-00000000000a', 'Owner@X.test', '!', 'member'),
  ('00000000-0000-0000-0000-00000000000b', 'Reader@X.test', '!', 'member');
INSERT INTO collections (id, owner_id, name, text_search_config) VALUES
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-00000000000a', 'n', 'simple');
INSERT INTO collection_shares (collection_id, user_id, permission) VALUES
  ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-00000000000b', 'write');
"""


def test_0004_keeps_shares_adds_invitations_and_downgrades(fresh_db: str) -> None:  # noqa: F811
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "0002")
    for statement in filter(str.strip, SEED.split(";")):
        _run(fresh_db, statement)
    command.upgrade(cfg, "head")
    assert {"id", "email", "user_id"} <= _columns(fresh_db, "collection_shares")
    rows = _run(fresh_db, "SELECT email, permission, id IS NOT NULL FROM collection_shares")
    assert rows == [("reader@x.test", "write", True)]
    _run(fresh_db, "INSERT INTO collection_shares (id, collection_id, email, permission) "
                   "VALUES (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c1', "
                   "'invited@x.test', 'read')")
    command.downgrade(cfg, "0002")
    assert "email" not in _columns(fresh_db, "collection_shares")
    rows = _run(fresh_db, "SELECT user_id::text, permission FROM collection_shares")
    assert rows == [("00000000-0000-0000-0000-00000000000b", "write")]
    command.upgrade(cfg, "head")
    assert _run(fresh_db, "SELECT email FROM collection_shares") == [("reader@x.test",)]

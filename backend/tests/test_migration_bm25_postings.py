"""Migrations 0017 and 0018 on a fresh database: postings written before 0017 get their
chunk's length, the postings index covers what BM25 reads, a posting without a length is
refused; 0018 orders each term's postings by impact (the expression the model and the BM25
query use) and keeps every posting; both downgrade and upgrade again."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.config import Config
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alembic import command
from tests.test_auth_migration import ALEMBIC_INI, _columns, _run, fresh_db  # noqa: F401

_INDEX = ("SELECT indexdef FROM pg_indexes WHERE tablename = 'chunk_terms' "
          "AND indexname = 'ix_chunk_terms_collection_term'")  # fmt: skip


def _seed(url: str) -> None:
    """Two chunks (lengths 3 and 5) with postings, and one chunk with none, as 0016 had them."""
    _run(url, "INSERT INTO users (id, email, password_hash, role) "
              "VALUES (gen_random_uuid(), 'm@x.test', '!', 'member')")  # fmt: skip
    _run(url, "INSERT INTO collections (id, owner_id, name, text_search_config) "
              "SELECT gen_random_uuid(), id, 'c', 'simple' FROM users")  # fmt: skip
    _run(url, "INSERT INTO documents (id, collection_id, filename, content_type, size_bytes, "
              "sha256, storage_key, status, stage) SELECT gen_random_uuid(), id, 'd', "
              "'text/plain', 1, repeat('a', 64), 'k', 'ready', 'done' FROM collections")
    dim = _run(url, "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass "
                    "AND attname = 'embedding'")[0][0]  # fmt: skip
    for ordinal, length in enumerate([3, 5, 0]):
        _run(url, "INSERT INTO chunks (document_id, collection_id, ordinal, text, char_start, "
                  "char_end, token_count, embedding, embedding_model, lex_length) "
                  "SELECT id, collection_id, :o, 'x', 0, 1, 1, "
                  "CAST(array_fill(0.1, ARRAY[:dim]) AS vector), 'm', :len FROM documents",
             o=ordinal, dim=dim, len=length)  # fmt: skip
    _run(url, "INSERT INTO chunk_terms (chunk_id, term, collection_id, tf) "
              "SELECT c.id, t.term, c.collection_id, 1 FROM chunks c, "
              "(VALUES ('apple'), ('pear')) AS t(term) WHERE c.lex_length > 0")  # fmt: skip


def _seeded_then_upgraded(url: str) -> Config:
    """The database at 0016 with _seed's postings, then upgraded to 0017."""
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "0016")
    _seed(url)
    command.upgrade(cfg, "0017")
    return cfg


def test_upgrade_copies_each_chunks_length_into_its_postings_then_round_trips(
    fresh_db: str,  # noqa: F811
) -> None:
    cfg = _seeded_then_upgraded(fresh_db)
    rows = _run(fresh_db, "SELECT c.lex_length, p.lex_length FROM chunk_terms p "
                          "JOIN chunks c ON c.id = p.chunk_id")  # fmt: skip
    assert len(rows) == 4 and all(a == b for a, b in rows)
    assert "INCLUDE (chunk_id, tf, lex_length)" in _run(fresh_db, _INDEX)[0][0]
    command.downgrade(cfg, "0016")
    assert "lex_length" not in _columns(fresh_db, "chunk_terms")
    assert len(_run(fresh_db, "SELECT 1 FROM chunk_terms")) == 4  # postings kept
    assert "INCLUDE" not in _run(fresh_db, _INDEX)[0][0]
    command.upgrade(cfg, "0017")
    assert _run(fresh_db, "SELECT count(*) FROM chunk_terms WHERE lex_length IS NULL")[0][0] == 0


def test_after_the_upgrade_a_posting_without_its_chunks_length_is_refused(
    fresh_db: str,  # noqa: F811
) -> None:
    _seeded_then_upgraded(fresh_db)
    with pytest.raises(IntegrityError):
        _run(fresh_db, "INSERT INTO chunk_terms (chunk_id, term, collection_id, tf) "
                       "SELECT id, 'plum', collection_id, 1 FROM chunks LIMIT 1")  # fmt: skip


def test_the_upgrade_of_a_database_without_postings_succeeds(fresh_db: str) -> None:  # noqa: F811
    cfg = Config(ALEMBIC_INI)
    command.upgrade(cfg, "0017")
    assert "lex_length" in _columns(fresh_db, "chunk_terms")
    with pytest.raises(IntegrityError):  # a posting still needs its chunk
        _run(fresh_db, "INSERT INTO chunk_terms (chunk_id, term, collection_id, tf, lex_length) "
                       "VALUES (424242, 'x', gen_random_uuid(), 1, 1)")  # fmt: skip


def test_0018_orders_the_postings_by_impact_keeps_them_and_round_trips(
    fresh_db: str,  # noqa: F811
) -> None:
    from app.search.models import POSTING_IMPACT

    migration = _load_0018()
    assert migration.POSTING_IMPACT == POSTING_IMPACT  # the frozen copy is the model's
    cfg = _seeded_then_upgraded(fresh_db)
    command.upgrade(cfg, "0018")
    indexdef = _run(fresh_db, _INDEX)[0][0]
    assert "(lex_length)::double precision)))) DESC) INCLUDE" in indexdef
    assert "INCLUDE (chunk_id, tf, lex_length)" in indexdef
    assert _run(fresh_db, "SELECT count(*) FROM chunk_terms")[0][0] == 4
    command.downgrade(cfg, "0017")
    indexdef = _run(fresh_db, _INDEX)[0][0]
    assert "DESC" not in indexdef and "(collection_id, term) INCLUDE" in indexdef
    assert _run(fresh_db, "SELECT count(*) FROM chunk_terms")[0][0] == 4
    command.upgrade(cfg, "0018")
    assert "DESC" in _run(fresh_db, _INDEX)[0][0]


def test_0018_downgrade_below_0017_still_drops_the_lengths(fresh_db: str) -> None:  # noqa: F811
    cfg = _seeded_then_upgraded(fresh_db)
    command.upgrade(cfg, "0018")
    command.downgrade(cfg, "0016")
    assert "lex_length" not in _columns(fresh_db, "chunk_terms")
    assert "INCLUDE" not in _run(fresh_db, _INDEX)[0][0]


def _load_0018() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(ALEMBIC_INI).parent / "alembic" / "versions" / "0018_bm25_postings_by_impact.py"
    spec = importlib.util.spec_from_file_location("migration_0018", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_models_declare_the_postings_index_the_migrations_build(db: Session) -> None:
    """The index the ORM metadata would create, built under another name beside the migrated
    one (rolled back), has the same definition as Postgres normalises it."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from app.search import models

    index = next(i for i in models.ChunkTerm.__table__.indexes
                 if i.name == "ix_chunk_terms_collection_term")  # fmt: skip
    ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    try:
        db.execute(text(ddl.replace("ix_chunk_terms_collection_term", "ix_model_check", 1)))
        defs = dict(db.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'chunk_terms' "
            "AND indexname IN ('ix_chunk_terms_collection_term', 'ix_model_check')")).all())
    finally:
        db.rollback()
    assert len(defs) == 2
    assert defs["ix_model_check"].replace("ix_model_check", "ix_chunk_terms_collection_term") \
        == defs["ix_chunk_terms_collection_term"]

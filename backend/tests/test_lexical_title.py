"""Later chunks are indexed for BM25 from the text they are embedded from: the document's
title in front (CHUNK_TITLE_PREFIX), so a word of the title finds every chunk of the
document, while the chunk's own text, as users see it, stays unchanged."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

import app.ingest.pipeline as pipeline
from app.core.config import get_settings
from tests.conftest import upload_ready

BODY = " ".join(
    f"Harbour pilots board incoming vessel number {i} near the breakwater at dawn."
    for i in range(120)
)


def _lexical(client: Any, query: str, collection: str) -> list[dict[str, Any]]:
    resp = client.post("/api/v1/search", json={
        "query": query, "collection": collection, "mode": "lexical", "k": 50,
        "group_by": "chunk"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])


def _ordinals(hits: list[dict[str, Any]], doc: str) -> set[int]:
    return {h["ordinal"] for h in hits if h["document_id"] == doc}


def _chunks(db: Any, doc: str) -> list[tuple[int, str, int, int]]:
    """(ordinal, text, lex_length, the lexemes of its own text counted by Postgres)."""
    db.rollback()
    rows = db.execute(text(
        "SELECT ordinal, text, lex_length, (SELECT COALESCE(sum(array_length(positions, 1)), 0)"
        " FROM unnest(to_tsvector('english', c.text))) FROM chunks c"
        " WHERE document_id = :d AND granularity = 'chunk' ORDER BY ordinal"),
        {"d": uuid.UUID(doc)})  # fmt: skip
    return [(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


def test_a_title_word_finds_every_chunk_of_its_document(
    client: Any, collection_name: str, db: Any
) -> None:
    [doc] = upload_ready(client, [("pilots.txt", f"Zephyrine almanac\n\n{BODY}".encode())],
                         collection_name)  # fmt: skip
    chunks = _chunks(db, doc)
    assert len(chunks) >= 3
    assert _ordinals(_lexical(client, "zephyrine", collection_name), doc) == {
        o for o, *_ in chunks
    }
    for _, body, lex_length, own in chunks[1:]:
        assert "Zephyrine" not in body  # what users see is the chunk's own text
        assert lex_length == own + 2  # plus the title's two lexemes


def test_without_the_title_prefix_only_the_first_chunk_has_the_title_word(
    client: Any, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    [doc] = upload_ready(client, [("pilots.txt", f"Quillwort ledger\n\n{BODY}".encode())],
                         collection_name)  # fmt: skip
    monkeypatch.setattr(get_settings(), "chunk_title_prefix", False)
    assert pipeline.run(uuid.UUID(doc)).status == "ready"  # re-ingested here, prefix off
    assert _ordinals(_lexical(client, "quillwort", collection_name), doc) == {0}
    assert all(lex == own for _, _, lex, own in _chunks(db, doc))


def test_a_document_without_a_title_is_indexed_from_its_text_alone(
    client: Any, collection_name: str, db: Any
) -> None:
    page = f"<html><body><p>{BODY}</p></body></html>".encode()  # no <title>, no <h1>
    [doc] = upload_ready(client, [("pilots.html", page)], collection_name)
    chunks = _chunks(db, doc)
    assert len(chunks) >= 3
    assert all(lex == own for _, _, lex, own in chunks)
    assert _ordinals(_lexical(client, "harbour breakwater", collection_name), doc) == {
        o for o, *_ in chunks
    }

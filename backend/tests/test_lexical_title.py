"""Later chunks are indexed for BM25 with the document's title in front (CHUNK_TITLE_PREFIX),
so a word of the title finds every chunk of the document, while the chunk's own text, as
users see it, stays unchanged; the embedder sees the same text unless CHUNK_TITLE_EMBED is
off, and then the chunk alone."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text

import app.ingest.pipeline as pipeline
from app.core.config import get_settings
from app.providers.embeddings import get_embedder
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


def _later_chunk_vector(db: Any, doc: str, title: str) -> tuple[float, float]:
    """Cosine of the stored vector of the document's second chunk with the embedder's
    vector of (the chunk alone, the chunk with the title in front)."""
    db.rollback()
    body, stored = db.execute(text(
        "SELECT text, embedding::text FROM chunks WHERE document_id = :d"
        " AND granularity = 'chunk' AND ordinal = 1"), {"d": uuid.UUID(doc)}).one()  # fmt: skip
    vector = json.loads(stored)
    alone, titled = get_embedder().embed_documents([body, f"{title}\n{body}"])
    return (sum(a * b for a, b in zip(vector, alone, strict=True)),
            sum(a * b for a, b in zip(vector, titled, strict=True)))  # fmt: skip


def _ingested_with(
    client: Any, collection: str, title: str, monkeypatch: pytest.MonkeyPatch, switch: str
) -> str:
    """A document titled `title`, uploaded, then ingested again here with setting `switch`
    off; its id."""
    [doc] = upload_ready(client, [("pilots.txt", f"{title}\n\n{BODY}".encode())], collection)
    monkeypatch.setattr(get_settings(), switch, False)
    assert pipeline.run(uuid.UUID(doc)).status == "ready"
    return str(doc)


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
    alone, titled = _later_chunk_vector(db, doc, "Zephyrine almanac")
    assert titled > 0.9999 > alone  # the embedder saw the title too


def test_with_title_embed_off_the_vector_is_the_chunk_alone_and_the_postings_keep_the_title(
    client: Any, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _ingested_with(client, collection_name, "Marram dossier", monkeypatch,
                         "chunk_title_embed")  # fmt: skip
    alone, titled = _later_chunk_vector(db, doc, "Marram dossier")
    assert alone > 0.9999 > titled
    chunks = _chunks(db, doc)
    assert _ordinals(_lexical(client, "marram", collection_name), doc) == {
        o for o, *_ in chunks
    }
    assert all(lex == own + 2 for _, _, lex, own in chunks[1:])


def test_without_the_title_prefix_only_the_first_chunk_has_the_title_word(
    client: Any, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _ingested_with(client, collection_name, "Quillwort ledger", monkeypatch,
                         "chunk_title_prefix")  # fmt: skip
    assert _ordinals(_lexical(client, "quillwort", collection_name), doc) == {0}
    assert all(lex == own for _, _, lex, own in _chunks(db, doc))
    alone, titled = _later_chunk_vector(db, doc, "Quillwort ledger")
    assert alone > 0.9999 > titled  # CHUNK_TITLE_EMBED (on) does nothing without the prefix


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

"""Several granularities through the real platform: by default a document is indexed in its
chunks only; with INDEX_GRANULARITY=document, a document indexed whole as well as in chunks
scores by its best evidence, a hit on the whole still points to a chunk, users never see
document rows, and re-ingest/delete leave none behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.core.config import get_settings
from app.providers.embeddings import get_embedder
from tests.conftest import upload, wait_for_documents

# Two halves on different subjects: each chunk matches half of the query, the whole matches it.
VOLCANO = (
    "Basaltic lava from the shield volcano flowed for weeks across the island, burying "
    "farmland and cooling into black rock fields that steamed in the rain. "
) * 4
BEES = (
    "Meanwhile the beekeepers moved their hives to the northern orchards, where the honey "
    "bees kept pollinating the apple blossoms despite the ash in the air. "
) * 4
QUERY = "beekeepers moving honey bee hives away from a volcano's lava flows and ash"
LONG = " ".join(
    f"Paragraph {i} of the harbour log records tides, cargo, weather and the ships that "
    f"came and went during week {i} of the season." for i in range(60)
)
SHORT = "A single short note about tides in the harbour."


def _rows(db: Any, doc_id: str) -> list[tuple[int, str, int, int, int | None]]:
    db.rollback()  # a fresh snapshot
    rows = db.execute(
        text("SELECT id, granularity, char_start, char_end, page FROM chunks "
             "WHERE document_id = :d ORDER BY ordinal"), {"d": doc_id}
    )
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def _cosines(db: Any, doc_id: str, query: str) -> dict[int, float]:
    vec = get_embedder().embed_query(query)
    qv = "[" + ",".join(f"{x:.7g}" for x in vec) + "]"
    rows = db.execute(
        text("SELECT id, 1 - (embedding <=> CAST(:qv AS vector)) FROM chunks "
             "WHERE document_id = :d"), {"d": doc_id, "qv": qv}
    )
    return {int(r[0]): float(r[1]) for r in rows}


@pytest.fixture
def document_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """INDEX_GRANULARITY=document for this test (the default is chunk)."""
    monkeypatch.setattr(get_settings(), "index_granularity", "document")


def _ingest(client: Any, collection: str, files: list[tuple[str, bytes]]) -> list[str]:
    resp = upload(client, files, collection=collection)
    assert resp.status_code in (200, 201, 202), resp.text
    ids = [d["id"] for d in resp.json()["documents"]]
    docs = wait_for_documents(client, ids)
    assert all(d["status"] == "ready" for d in docs.values()), docs
    return ids


def _search(client: Any, collection: str, mode: str) -> list[dict[str, Any]]:
    resp = client.post("/api/v1/search", json={
        "query": QUERY, "collection": collection, "mode": mode, "group_by": "document",
        "k": 10})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])


def test_whole_document_scores_by_its_document_row_and_the_hit_points_to_its_best_chunk(
    client: Any, collection_name: str, db: Any, document_rows: None
) -> None:
    text_ = f"Island report\n\n{VOLCANO}\n\n{BEES}"
    assert get_settings().chunk_size_tokens < get_embedder().count_tokens(text_) <= 254
    [doc_id] = _ingest(client, collection_name, [("island.txt", text_.encode())])
    rows = _rows(db, doc_id)
    chunks = [r for r in rows if r[1] == "chunk"]
    [whole] = [r for r in rows if r[1] == "document"]
    assert len(chunks) >= 2 and (whole[2], whole[3]) == (0, len(text_))
    cos = _cosines(db, doc_id, QUERY)
    assert cos[whole[0]] > max(cos[c[0]] for c in chunks)  # the whole matches best

    [hit] = _search(client, collection_name, "vector")
    # The document's score is its document row's; the hit is its chunk nearest the query.
    assert hit["retrievers"]["vector"]["score"] == pytest.approx(cos[whole[0]], abs=1e-4)
    nearest = max(chunks, key=lambda c: cos[c[0]])
    assert hit["chunk_id"] == nearest[0]
    assert (hit["char_start"], hit["char_end"], hit["page"]) == nearest[2:]
    assert text_[hit["char_start"] : hit["char_end"]] == hit["text"]
    for mode in ("hybrid", "lexical"):
        [other] = _search(client, collection_name, mode)
        assert other["chunk_id"] in {c[0] for c in chunks}, mode

    # Users see chunks only: the list, its total and the document's chunk_count.
    listed = client.get(f"/api/v1/documents/{doc_id}/chunks").json()
    ids = [c["id"] for c in listed["items"]]
    assert sorted(ids) == sorted(c[0] for c in chunks)
    assert listed["total"] == len(chunks)
    assert client.get(f"/api/v1/documents/{doc_id}").json()["chunk_count"] == len(chunks)
    # The whole is found by its vector only: no postings, not in the collection's counts.
    assert db.execute(text("SELECT count(*) FROM chunk_terms WHERE chunk_id = :i"),
                      {"i": whole[0]}).scalar_one() == 0
    assert db.execute(text("SELECT chunk_count FROM collections WHERE name = :n"),
                      {"n": collection_name}).scalar_one() == len(chunks)


def test_too_long_or_single_chunk_documents_get_no_document_row(
    client: Any, collection_name: str, db: Any, document_rows: None
) -> None:
    long_id, short_id = _ingest(
        client, collection_name, [("log.txt", LONG.encode()), ("note.txt", SHORT.encode())]
    )
    long_rows, short_rows = _rows(db, long_id), _rows(db, short_id)
    assert len(long_rows) > 2 and {r[1] for r in long_rows} == {"chunk"}
    assert [r[1] for r in short_rows] == ["chunk"]


def test_granularity_off_writes_chunks_only_and_search_ignores_document_rows(
    client: Any, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch,
    document_rows: None,
) -> None:
    text_ = f"Island report\n\n{VOLCANO}\n\n{BEES}"
    [with_whole] = _ingest(client, collection_name, [("island.txt", text_.encode())])
    monkeypatch.setattr(get_settings(), "index_granularity", "chunk")
    [chunks_only] = _ingest(client, collection_name, [("island2.txt", (text_ + " ").encode())])
    assert {r[1] for r in _rows(db, chunks_only)} == {"chunk"}
    # The earlier document keeps its document row, but searches no longer see it.
    assert "document" in {r[1] for r in _rows(db, with_whole)}
    cos = _cosines(db, with_whole, QUERY)
    best_chunk = max(cos[r[0]] for r in _rows(db, with_whole) if r[1] == "chunk")
    hits = {h["document_id"]: h for h in _search(client, collection_name, "vector")}
    assert hits[with_whole]["retrievers"]["vector"]["score"] == pytest.approx(best_chunk, abs=1e-4)


def test_by_default_a_document_that_fits_the_window_is_indexed_in_its_chunks_only(
    client: Any, collection_name: str, db: Any
) -> None:
    text_ = f"Island report\n\n{VOLCANO}\n\n{BEES}"
    assert get_embedder().count_tokens(text_) <= 254  # it would get a document row
    [doc_id] = _ingest(client, collection_name, [("island.txt", text_.encode())])
    rows = _rows(db, doc_id)
    assert len(rows) >= 2 and {r[1] for r in rows} == {"chunk"}
    cos = _cosines(db, doc_id, QUERY)
    [hit] = _search(client, collection_name, "vector")
    assert hit["retrievers"]["vector"]["score"] == pytest.approx(max(cos.values()), abs=1e-4)
    assert hit["chunk_id"] == max(cos, key=lambda i: cos[i])
    [other] = _search(client, collection_name, "hybrid")
    assert other["document_id"] == doc_id


def test_reingest_and_delete_leave_no_stale_document_rows(
    client: Any, collection_name: str, db: Any, document_rows: None
) -> None:
    text_ = f"Island report\n\n{VOLCANO}\n\n{BEES}"
    [doc_id] = _ingest(client, collection_name, [("island.txt", text_.encode())])
    assert client.post(f"/api/v1/documents/{doc_id}/reingest").status_code in (200, 202)
    assert wait_for_documents(client, [doc_id])[doc_id]["status"] == "ready"
    assert [r[1] for r in _rows(db, doc_id)].count("document") == 1
    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 204
    assert _rows(db, doc_id) == []
    db.rollback()
    stale = db.execute(
        text("SELECT count(*) FROM chunk_terms ct LEFT JOIN chunks c ON c.id = ct.chunk_id "
             "WHERE c.id IS NULL")
    ).scalar_one()
    assert stale == 0

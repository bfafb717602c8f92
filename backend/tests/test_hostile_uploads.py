"""The hostile corpus (tests/hostile_corpus.py) against the real API and a real worker.

Each case is refused with a clear 4xx JSON error, or accepted and ends `failed` with a reason
(no chunks) or `ready` with chunks. Afterwards the worker still ingests a normal file, the
bucket holds no object without a document row, and no failed document has chunks.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.collections.models import Collection
from app.documents.models import Chunk, Document
from app.storage import content_key
from tests.conftest import assert_error, s3_keys, upload, wait_for_documents
from tests.hostile_corpus import CASES, TEXT, UploadCase, multipart

INGEST_TIMEOUT_S = 120


def _post_raw(client: Any, files: list[tuple[str, bytes]], collection: str) -> Any:
    body, content_type = multipart(files, {"collection": collection})
    return client.post("/api/v1/documents", content=body, headers={"content-type": content_type})


def _documents_in(db: Any, collection: str) -> list[Document]:
    db.rollback()
    return list(
        db.scalars(
            select(Document)
            .join(Collection, Collection.id == Document.collection_id)
            .where(Collection.name == collection)
        )
    )


def _all_chunk_texts(client: Any, doc_id: str) -> list[str]:
    texts: list[str] = []
    offset = 0
    while True:
        page = client.get(
            f"/api/v1/documents/{doc_id}/chunks", params={"limit": 1000, "offset": offset}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        texts += [c["text"] for c in body["items"]]
        offset += len(body["items"])
        if offset >= body["total"] or not body["items"]:
            return texts


def test_corpus_has_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_upload_is_refused_or_ends_cleanly(client: Any, db: Any, case: UploadCase) -> None:
    collection = f"h-{case.id}-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    resp = _post_raw(client, case.build(), collection)

    if case.expect == "reject":
        err = assert_error(resp, case.status, case.code)
        assert err["message"]
        assert _documents_in(db, collection) == []
        return

    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id], timeout=INGEST_TIMEOUT_S)[doc_id]
    assert time.monotonic() - started < INGEST_TIMEOUT_S
    assert doc["status"] in case.final, doc
    chunks = client.get(f"/api/v1/documents/{doc_id}/chunks").json()
    if doc["status"] == "failed":
        assert doc["error"], doc
        if case.reason:
            assert case.reason.lower() in doc["error"].lower(), doc["error"]
        assert doc["chunk_count"] == 0 and chunks["total"] == 0, (doc, chunks["total"])
    else:
        assert doc["error"] is None, doc
        assert doc["chunk_count"] == chunks["total"], (doc, chunks["total"])
        if not doc["content_type"].startswith("image/"):  # a picture may hold no text
            assert chunks["total"] > 0, doc
    if case.stored_name is not None:
        assert doc["filename"] == case.stored_name
    if case.content_type is not None:
        assert doc["content_type"] == case.content_type
    for needle in case.absent:
        assert all(needle not in t for t in _all_chunk_texts(client, doc_id)), needle
    (row,) = _documents_in(db, collection)
    assert row.storage_key == content_key(row.sha256)  # never derived from the filename
    assert "/" not in row.filename and "\\" not in row.filename
    assert all(ch.isprintable() for ch in row.filename)


def test_worker_still_ingests_after_the_corpus(client: Any, collection_name: str) -> None:
    resp = upload(
        client, [("after.txt", TEXT + b" after the hostile corpus")], collection=collection_name
    )
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc_id], timeout=60)[doc_id]["status"] == "ready"


def test_bucket_has_no_object_without_a_document_row(s3: Any, db: Any) -> None:
    db.rollback()
    keys = s3_keys(s3)
    referenced = set(db.scalars(select(Document.storage_key)))
    referenced |= set(db.scalars(select(Document.thumbnail_key)))  # thumbnails are objects too
    orphans = keys - referenced
    assert not orphans, sorted(orphans)[:5]


def test_no_failed_document_has_chunks_or_postings(db: Any) -> None:
    db.rollback()
    half_written = db.scalar(
        select(func.count())
        .select_from(Chunk)
        .join(Document, Document.id == Chunk.document_id)
        .where(Document.status == "failed")
    )
    assert half_written == 0
    postings = db.scalar(
        text(
            "SELECT count(*) FROM chunk_terms ct JOIN chunks c ON c.id = ct.chunk_id "
            "JOIN documents d ON d.id = c.document_id WHERE d.status = 'failed'"
        )
    )
    assert postings == 0


def test_ready_documents_chunk_count_matches_their_chunks(db: Any) -> None:
    db.rollback()
    mismatched = db.execute(
        text(
            "SELECT d.id, d.chunk_count, count(c.id) FROM documents d "
            "LEFT JOIN chunks c ON c.document_id = d.id AND c.granularity = 'chunk' "
            "WHERE d.status = 'ready' "
            "GROUP BY d.id HAVING d.chunk_count <> count(c.id)"
        )
    ).all()
    assert mismatched == []


def test_identical_hostile_bytes_are_one_object(client: Any, s3: Any, collection_name: str) -> None:
    """Two uploads of one file under traversal names share the content-addressed key."""
    content = TEXT + uuid.uuid4().bytes.hex().encode()
    first = _post_raw(client, [("../a/../../x.txt", content)], collection_name)
    second = _post_raw(client, [("C:\\temp\\y.txt", content)], collection_name + "-2")
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    import hashlib

    key = content_key(hashlib.sha256(content).hexdigest())
    assert key in s3_keys(s3)
    assert not any(".." in k or "x.txt" in k or "y.txt" in k for k in s3_keys(s3))

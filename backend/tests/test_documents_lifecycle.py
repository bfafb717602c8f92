"""Deduplication, re-ingest, delete and failure through the real API, worker and S3 bucket."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.documents.models import Chunk, Document
from app.search.models import ChunkTerm
from app.storage import content_key
from tests.conftest import assert_error, s3_keys, search, upload, wait_for_documents

KOALAS = b"Koalas sleep up to twenty hours a day because eucalyptus leaves give little energy."


def _chunks_in_db(db: Any, doc_id: str) -> int:
    db.rollback()
    return int(
        db.scalar(select(func.count()).select_from(Chunk).where(Chunk.document_id == doc_id)) or 0
    )


def _ingest(client: Any, collection: str, name: str, data: bytes) -> dict[str, Any]:
    resp = upload(client, [(name, data)], collection=collection)
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id])[doc_id]
    assert doc["status"] == "ready", doc
    return doc


def test_same_file_twice_is_deduplicated(
    client: Any, collection_name: str, db: Any, s3: Any
) -> None:
    first = _ingest(client, collection_name, "koalas.txt", KOALAS)
    chunks_before = _chunks_in_db(db, first["id"])
    keys_before = s3_keys(s3)
    resp = upload(client, [("koalas-again.txt", KOALAS)], collection=collection_name)
    assert resp.status_code == 202, resp.text
    again = resp.json()["documents"][0]
    assert again["id"] == first["id"]
    assert again["duplicate"] is True
    assert again["status"] == "ready"
    listed = client.get("/api/v1/documents", params={"collection": collection_name}).json()
    assert listed["total"] == 1
    assert s3_keys(s3) == keys_before
    assert _chunks_in_db(db, first["id"]) == chunks_before


def test_same_bytes_in_another_collection_is_a_new_document(
    client: Any, collection_name: str
) -> None:
    first = _ingest(client, collection_name, "a.txt", b"Penguins huddle together to stay warm.")
    other = upload(
        client,
        [("a.txt", b"Penguins huddle together to stay warm.")],
        collection=collection_name + "-b",
    )
    assert other.json()["documents"][0]["duplicate"] is False
    assert other.json()["documents"][0]["id"] != first["id"]


def test_reingest_runs_again_without_duplicating_chunks(
    client: Any, collection_name: str, db: Any
) -> None:
    first = _ingest(client, collection_name, "koalas.txt", KOALAS)
    count = _chunks_in_db(db, first["id"])
    assert count >= 1
    resp = upload(client, [("koalas.txt", KOALAS)], collection=collection_name, reingest=True)
    assert resp.status_code == 202, resp.text
    again = resp.json()["documents"][0]
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert again["task_id"] != first["task_id"]
    doc = wait_for_documents(client, [first["id"]])[first["id"]]
    assert doc["status"] == "ready" and doc["task_id"] == again["task_id"]
    assert doc["attempts"] == 1
    assert _chunks_in_db(db, first["id"]) == count
    ordinals = db.scalars(select(Chunk.ordinal).where(Chunk.document_id == first["id"])).all()
    assert sorted(ordinals) == list(range(count))


def test_delete_removes_object_chunks_rows_and_search_hits(
    client: Any, collection_name: str, db: Any, s3: Any
) -> None:
    data = b"Narwhal tusks are elongated teeth that can sense changes in seawater."
    doc = _ingest(client, collection_name, "narwhal.txt", data)
    key = content_key(doc["sha256"])
    assert key in s3_keys(s3)
    assert search(client, "narwhal tusk teeth", collection_name)[0]["document_id"] == doc["id"]
    db.rollback()
    chunk_ids = db.scalars(select(Chunk.id).where(Chunk.document_id == doc["id"])).all()
    assert chunk_ids

    resp = client.delete(f"/api/v1/documents/{doc['id']}")
    assert resp.status_code == 204
    assert key not in s3_keys(s3)
    db.rollback()
    assert db.get(Document, doc["id"]) is None
    assert _chunks_in_db(db, doc["id"]) == 0
    terms = db.scalar(
        select(func.count()).select_from(ChunkTerm).where(ChunkTerm.chunk_id.in_(chunk_ids))
    )
    assert terms == 0
    assert all(
        h["document_id"] != doc["id"] for h in search(client, "narwhal tusk teeth", collection_name)
    )
    assert_error(client.get(f"/api/v1/documents/{doc['id']}"), 404, "not_found")
    assert_error(client.delete(f"/api/v1/documents/{doc['id']}"), 404, "not_found")


def test_delete_keeps_an_object_another_document_still_uses(
    client: Any, collection_name: str, s3: Any
) -> None:
    data = b"Octopuses have three hearts and blue blood."
    one = _ingest(client, collection_name, "octo.txt", data)
    two = _ingest(client, collection_name + "-b", "octo.txt", data)
    assert client.delete(f"/api/v1/documents/{one['id']}").status_code == 204
    assert content_key(two["sha256"]) in s3_keys(s3)
    assert client.get(f"/api/v1/documents/{two['id']}/download").content == data


def test_corrupt_pdf_fails_with_a_readable_reason_and_the_worker_goes_on(
    client: Any, collection_name: str
) -> None:
    resp = upload(
        client,
        [("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")],
        collection=collection_name,
    )
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id])[doc_id]
    assert doc["status"] == "failed"
    assert doc["error"] and "Traceback" not in doc["error"]
    assert "PDF" in doc["error"] or "text" in doc["error"]
    assert doc["chunk_count"] == 0
    # the same worker still ingests the next upload
    later = _ingest(
        client,
        collection_name,
        "after.txt",
        b"Sloths move so slowly that algae grows on their fur.",
    )
    assert later["status"] == "ready"


def test_file_with_no_text_fails_instead_of_ready_with_no_chunks(
    client: Any, collection_name: str
) -> None:
    resp = upload(client, [("blank.txt", b"   \n\n\t  \n")], collection=collection_name)
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id])[doc_id]
    assert doc["status"] == "failed"
    assert "No text" in doc["error"]

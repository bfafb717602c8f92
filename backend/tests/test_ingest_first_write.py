"""The ingest write of a document that was never written skips what only a re-ingest needs
(dropping earlier chunks, image facts and image labels); a document written before still
has all of it replaced."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text, update

import app.ingest.pipeline as pipeline
from app.core.db import get_engine, session_scope
from app.documents import repository
from app.documents.models import Document
from tests.conftest import upload_ready

TEXT = b"Harbour pilots board ships at the outer buoy and bring them alongside. " * 20


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL this thread sends (the test process's other threads are left out)."""
    seen: list[str] = []
    me = threading.get_ident()

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if threading.get_ident() == me:
            seen.append(" ".join(statement.split()))

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)


def _count(db: Any, sql: str, doc_id: uuid.UUID) -> int:
    db.rollback()
    return int(db.scalar(text(sql), {"id": doc_id}))


def _chunks(db: Any, doc_id: uuid.UUID) -> int:
    return _count(db, "SELECT count(*) FROM chunks WHERE document_id = :id", doc_id)


def _requeue(db: Any, doc_id: uuid.UUID, *, never_written: bool) -> None:
    """Put a ready document back in the queue; `never_written` also takes away what its
    write left (chunks, embedding_model, title), as for a document the worker never
    finished."""
    if never_written:
        with session_scope() as session:
            repository.drop_chunks(session, doc_id)
    values: dict[str, Any] = {"stage": "queued", "status": "queued", "task_id": None}
    if never_written:
        values |= {"embedding_model": None, "chunk_count": 0, "title": None}
    db.execute(update(Document).where(Document.id == doc_id).values(**values))
    db.commit()


def _uploaded(client: Any, collection_name: str, name: str) -> uuid.UUID:
    [doc] = upload_ready(client, [(name, TEXT + uuid.uuid4().bytes.hex().encode())],
                         collection_name)  # fmt: skip
    return uuid.UUID(doc)


def test_the_first_write_of_a_document_deletes_and_looks_up_nothing_earlier(
    client: Any, collection_name: str, db: Any
) -> None:
    doc_id = _uploaded(client, collection_name, "pilots.txt")
    ingested = _chunks(db, doc_id)
    _requeue(db, doc_id, never_written=True)
    assert _chunks(db, doc_id) == 0
    with _statements() as seen:
        outcome = pipeline.run(doc_id)
    assert (outcome.status, outcome.written) == ("ready", True)
    assert not [s for s in seen if s.upper().startswith("DELETE")], seen
    assert not [s for s in seen if "document_images" in s or "image_vectors" in s], seen
    # the document row: read at the start and under the write's lock, updated by each
    # (the title it gets included: not an UPDATE of its own)
    updates = [s for s in seen if s.upper().startswith("UPDATE DOCUMENTS")]
    reads = [s for s in seen if s.upper().startswith("SELECT DOCUMENTS.ID")]
    assert (len(reads), len(updates)) == (2, 2), seen
    assert _chunks(db, doc_id) == ingested  # the same chunks as the worker's ingest
    assert _count(db, "SELECT count(*) FROM documents WHERE id = :id AND title IS NOT NULL "
                      "AND embedding_model IS NOT NULL AND status = 'ready'", doc_id) == 1


def test_a_re_ingest_replaces_the_earlier_chunks_instead_of_adding_to_them(
    client: Any, collection_name: str, db: Any
) -> None:
    doc_id = _uploaded(client, collection_name, "pilots-again.txt")
    ingested = _chunks(db, doc_id)
    assert ingested > 0
    _requeue(db, doc_id, never_written=False)
    with _statements() as seen:
        assert pipeline.run(doc_id).status == "ready"
    assert [s for s in seen if s.upper().startswith("DELETE FROM CHUNKS ")], seen
    assert _chunks(db, doc_id) == ingested
    assert _count(db, "SELECT count(*) FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id "
                      "WHERE c.document_id = :id", doc_id) > 0


def test_a_re_ingest_without_an_image_drops_the_image_facts_an_earlier_write_left(
    client: Any, collection_name: str, db: Any
) -> None:
    """A written document keeps no image row or image vector its new parse did not find."""
    doc_id = _uploaded(client, collection_name, "pilots-image.txt")
    db.execute(text("INSERT INTO document_images (document_id, width, height, format) "
                    "VALUES (:id, 4, 3, 'PNG')"), {"id": doc_id})  # fmt: skip
    db.execute(text(
        "INSERT INTO image_vectors (document_id, collection_id, model, vector, phash, objects, "
        "description) SELECT id, collection_id, 'test', CAST(:v AS vector), 1, '[]', '' "
        "FROM documents WHERE id = :id"), {"id": doc_id, "v": str([0.5] * 1280)})
    db.commit()
    _requeue(db, doc_id, never_written=False)
    assert pipeline.run(doc_id).status == "ready"
    assert _count(db, "SELECT count(*) FROM document_images WHERE document_id = :id", doc_id) == 0
    assert _count(db, "SELECT count(*) FROM image_vectors WHERE document_id = :id", doc_id) == 0

"""BM25 scores from the one-query SQL against values computed by hand on a tiny corpus.

Rows are written straight into the real database by the real write path
(search/bulk_index.py), so the numbers below depend on nothing but the formula.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.bootstrap import local_user
from app.collections.models import Collection
from app.documents.models import Chunk, Document, DocumentStatus
from app.search import bulk_index
from app.search.filters import SearchScope
from app.search.lexical import lexical_search

# A stage that agrees with each status (the database checks the pair).
STAGE_OF = {
    DocumentStatus.queued: "queued",
    DocumentStatus.processing: "embedding",
    DocumentStatus.ready: "done",
    DocumentStatus.failed: "failed",
}


def make_collection(db: Session, config: str = "simple") -> Collection:
    owner = local_user(db)  # commits once if the user is new; nothing else is pending yet
    col = Collection(
        id=uuid.uuid4(), owner_id=owner.id, name=f"bm25-{uuid.uuid4().hex[:10]}",
        text_search_config=config,
    )
    db.add(col)
    db.flush()
    return col


def add_document(
    db: Session,
    col: Collection,
    texts: list[str],
    *,
    status: DocumentStatus = DocumentStatus.ready,
    metadata: dict[str, Any] | None = None,
    vectors: list[list[float]] | None = None,
) -> tuple[Document, list[int]]:
    """A document with one chunk per text, indexed as the ingest pipeline does."""
    body = "\n".join(texts).encode()
    doc = Document(
        id=uuid.uuid4(),
        collection_id=col.id,
        filename="doc.txt",
        content_type="text/plain",
        size_bytes=len(body),
        sha256=hashlib.sha256(body + uuid.uuid4().bytes).hexdigest(),
        storage_key="none",
        metadata_=metadata or {},
        status=status,
        stage=STAGE_OF[status],
        timings={},
    )
    db.add(doc)
    db.flush()
    rows = [
        bulk_index.ChunkRow(
            ordinal=i, text=t, page=None, char_start=0, char_end=len(t),
            token_count=len(t.split()),
            embedding=(vectors[i] if vectors else [1.0] + [0.0] * 383),
        )
        for i, t in enumerate(texts)
    ]
    bulk_index.write_chunks(db, doc.id, col.id, rows, "test")
    db.flush()
    ids = select(Chunk.id).where(Chunk.document_id == doc.id).order_by(Chunk.ordinal)
    return doc, list(db.scalars(ids))


@pytest.fixture
def corpus(db: Session) -> Any:
    col = make_collection(db)
    _, (c1,) = add_document(db, col, ["apple banana apple"])
    _, (c2,) = add_document(db, col, ["banana cherry"])
    _, (c3,) = add_document(db, col, ["cherry date elder fig"])
    yield col, c1, c2, c3
    db.rollback()


def test_bm25_matches_hand_computed_scores(db: Session, corpus: Any) -> None:
    col, c1, c2, c3 = corpus
    # N = 3, avgdl = (3 + 2 + 4) / 3 = 3; k1 = 0.9, b = 0.4
    # idf(apple)  = ln(1 + (3 - 1 + 0.5) / 1.5) = ln(8/3) = 0.980829
    # idf(cherry) = ln(1 + (3 - 2 + 0.5) / 2.5) = ln(1.6) = 0.470004
    # c1: apple tf 2, dl 3: 0.980829 * 2 / (2 + 0.9 * 1.0)              = 0.676434
    # c2: cherry tf 1, dl 2: 0.470004 * 1 / (1 + 0.9 * (0.6 + 0.4*2/3)) = 0.264047
    # c3: cherry tf 1, dl 4: 0.470004 * 1 / (1 + 0.9 * (0.6 + 0.4*4/3)) = 0.232675
    scope = SearchScope(collection_ids=[col.id])
    hits = lexical_search(db, "apple cherry", scope, 10, k1=0.9, b=0.4)
    assert [cid for cid, _ in hits] == [c1, c2, c3]
    assert hits[0][1] == pytest.approx(0.676434, abs=1e-5)
    assert hits[1][1] == pytest.approx(0.264047, abs=1e-5)
    assert hits[2][1] == pytest.approx(0.232675, abs=1e-5)


def test_bm25_b_zero_ignores_length_and_k1_zero_ignores_tf(db: Session, corpus: Any) -> None:
    col, c1, c2, c3 = corpus
    scope = SearchScope(collection_ids=[col.id])
    no_length = dict(lexical_search(db, "cherry", scope, 10, k1=0.9, b=0.0))
    assert no_length[c2] == pytest.approx(no_length[c3])
    assert no_length[c2] == pytest.approx(math.log(1.6) / 1.9)
    binary = dict(lexical_search(db, "apple", scope, 10, k1=0.0, b=0.4))
    assert binary[c1] == pytest.approx(math.log(8 / 3))


def test_bm25_returns_nothing_for_unknown_terms(db: Session, corpus: Any) -> None:
    col, *_ = corpus
    assert lexical_search(db, "zucchini", SearchScope(collection_ids=[col.id]), 10) == []


def test_bm25_stopword_only_query_has_no_hits_and_no_error(db: Session) -> None:
    col = make_collection(db, "english")
    add_document(db, col, ["the cat sat on the mat"])
    assert lexical_search(db, "the and of", SearchScope(collection_ids=[col.id]), 10) == []
    db.rollback()


def test_bm25_limit_and_scope_apply_inside_the_query(db: Session, corpus: Any) -> None:
    col, c1, *_ = corpus
    scope = SearchScope(collection_ids=[col.id])
    assert [cid for cid, _ in lexical_search(db, "apple cherry", scope, 1)] == [c1]
    other = make_collection(db)
    assert lexical_search(db, "apple cherry", SearchScope(collection_ids=[other.id]), 10) == []


def test_bm25_ignores_documents_that_are_not_ready(db: Session, corpus: Any) -> None:
    col, c1, *_ = corpus
    _, (queued,) = add_document(db, col, ["apple apple apple"], status=DocumentStatus.queued)
    ids = [cid for cid, _ in lexical_search(db, "apple", SearchScope(collection_ids=[col.id]), 10)]
    assert queued not in ids and ids == [c1]


def test_bm25_statistics_span_every_searched_collection(db: Session, corpus: Any) -> None:
    col, c1, *_ = corpus
    other = make_collection(db)
    _, (o1,) = add_document(db, other, ["apple"])
    # N = 4, df(apple) = 2, avgdl = 10 / 4 = 2.5
    idf = math.log(1 + (4 - 2 + 0.5) / 2.5)
    hits = dict(lexical_search(db, "apple", SearchScope(collection_ids=[col.id, other.id]), 10,
                               k1=0.9, b=0.4))
    assert hits[o1] == pytest.approx(idf * 1 / (1 + 0.9 * (0.6 + 0.4 * 1 / 2.5)))
    assert hits[c1] == pytest.approx(idf * 2 / (2 + 0.9 * (0.6 + 0.4 * 3 / 2.5)))

"""Index-only BM25 (search/lexical.py: scores from the postings' covering index, the scope
checked on the top candidates) against the one-query BM25 with the scope inside it
(`_BM25_EXACT`, the query it replaced), on a small real collection written by the real write
path, with filters, document-id scopes, and documents that are processing, failed or deleted.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from app.documents.models import Document, DocumentStatus
from app.documents.repository import drop_chunks
from app.search.filters import SearchScope
from app.search.lexical import _BM25_EXACT, bm25_params, lexical_search, query_terms
from tests.test_bm25_unit import add_document, make_collection

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi",
         "chi", "psi", "omega"]  # fmt: skip
QUERIES = ["alpha", "alpha beta", "omega psi chi", "gamma delta epsilon zeta eta theta",
           "iota " * 3 + "kappa nu"]  # fmt: skip


def exact(db: Session, query: str, scope: SearchScope, limit: int) -> list[tuple[int, float]]:
    """The reference: every posting joined to its chunk and document, the scope inside."""
    terms = query_terms(db, query, scope)
    if not terms.terms:
        return []
    where, params = bm25_params(terms, scope, limit, None, None)
    rows: list[Any] = list(db.execute(text(_BM25_EXACT.format(scope=where)), params))
    return [(int(r[0]), float(r[1])) for r in rows]


def same(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> bool:
    """The same chunks in the same order with the same scores; a float sum's last bit may
    differ with the order Postgres adds a chunk's terms in (the plan), nothing more."""
    return [c for c, _ in got] == [c for c, _ in want] and all(
        g == pytest.approx(w, rel=1e-12) for (_, g), (_, w) in zip(got, want, strict=True)
    )


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS[:12], k=rng.randint(3, 9)) + rng.choices(WORDS, k=3))


@pytest.fixture
def corpus(db: Session) -> Any:
    """24 ready documents (teams a/b), 3 processing and 2 failed ones (a reingest keeps the
    old chunks: they have postings), and 2 deleted ones, all of 3 chunks."""
    rng = random.Random(11)
    col = make_collection(db)
    docs: dict[str, list[Document]] = {"ready": [], "hidden": []}
    for i in range(24):
        doc, _ = add_document(db, col, [_text(rng) for _ in range(3)],
                              metadata={"team": "ab"[i % 2], "n": i})  # fmt: skip
        docs["ready"].append(doc)
    for status in [DocumentStatus.processing] * 3 + [DocumentStatus.failed] * 2:
        doc, _ = add_document(db, col, ["alpha alpha alpha omega psi " + _text(rng)] * 3,
                              status=status)  # fmt: skip
        docs["hidden"].append(doc)
    for _ in range(2):
        doc, _ = add_document(db, col, ["alpha alpha alpha beta omega " + _text(rng)] * 3)
        drop_chunks(db, doc.id)
        db.execute(delete(Document).where(Document.id == doc.id))
    db.flush()
    yield col, docs
    db.rollback()


def test_index_only_bm25_equals_the_exact_query_for_every_scope_and_limit(
    db: Session, corpus: Any
) -> None:
    col, docs = corpus
    ready = docs["ready"]
    scopes = [
        SearchScope([col.id]),
        SearchScope([col.id], metadata={"team": "b"}),
        SearchScope([col.id], metadata={"n": 5}),
        SearchScope([col.id], content_types=["text/plain"]),
        SearchScope([col.id], document_ids=[ready[3].id, ready[4].id, docs["hidden"][0].id]),
    ]
    compared = 0
    for scope in scopes:
        for query in QUERIES:
            for limit in (1, 3, 10, 1000):
                want = exact(db, query, scope, limit)
                assert same(lexical_search(db, query, scope, limit), want), (scope, query, limit)
                compared += bool(want)
    assert compared > 60  # the comparisons had hits to compare


def test_documents_that_are_not_ready_never_appear_even_when_they_score_best(
    db: Session, corpus: Any
) -> None:
    col, docs = corpus
    hidden = {d.id for d in docs["hidden"]}
    # the hidden documents' chunks hold "alpha" three times: the best scores of the collection
    hits = lexical_search(db, "alpha omega psi", SearchScope([col.id]), 2)
    owners = dict(db.execute(text("SELECT id, document_id FROM chunks WHERE id = ANY(:i)"),
                             {"i": [cid for cid, _ in hits]}).all())  # fmt: skip
    assert len(hits) == 2 and not hidden & set(owners.values())
    assert same(hits, exact(db, "alpha omega psi", SearchScope([col.id]), 2))


def test_deleted_documents_leave_no_postings_and_no_hits(db: Session, corpus: Any) -> None:
    col, docs = corpus
    orphans = db.execute(text("SELECT count(*) FROM chunk_terms p LEFT JOIN chunks c "
                              "ON c.id = p.chunk_id WHERE c.id IS NULL")).scalar_one()  # fmt: skip
    assert orphans == 0
    live = db.execute(text("SELECT count(*) FROM chunks WHERE collection_id = :c"),
                      {"c": col.id}).scalar_one()  # fmt: skip
    assert live == 3 * (len(docs["ready"]) + len(docs["hidden"]))
    chunk_count = db.execute(text("SELECT chunk_count FROM collections WHERE id = :c"),
                             {"c": col.id}).scalar_one()  # fmt: skip
    assert chunk_count == live


def test_a_selective_filter_is_not_truncated_by_the_candidate_depth(
    db: Session, corpus: Any
) -> None:
    col, _ = corpus
    # one low-ranked ready document among many better ones: found past every candidate depth
    _, ids = add_document(db, col, ["alpha " + " ".join(WORDS[12:])] * 2,
                            metadata={"team": "rare"})  # fmt: skip
    scope = SearchScope([col.id], metadata={"team": "rare"})
    hits = lexical_search(db, "alpha", scope, 1)
    assert [cid for cid, _ in hits] == [min(ids)]
    assert same(hits, exact(db, "alpha", scope, 1))
    assert same(lexical_search(db, "alpha", scope, 5), exact(db, "alpha", scope, 5))


def test_a_filter_that_matches_nothing_returns_nothing(db: Session, corpus: Any) -> None:
    col, _ = corpus
    assert lexical_search(db, "alpha", SearchScope([col.id], metadata={"team": "zz"}), 10) == []
    assert lexical_search(db, "alpha", SearchScope([col.id], content_types=["x/y"]), 10) == []


def test_every_posting_carries_its_chunks_length(db: Session, corpus: Any) -> None:
    col, _ = corpus
    mismatched = db.execute(text(
        "SELECT count(*) FROM chunk_terms p JOIN chunks c ON c.id = p.chunk_id "
        "WHERE p.collection_id = :c AND p.lex_length <> c.lex_length"), {"c": col.id},
    ).scalar_one()  # fmt: skip
    lengths = db.execute(text(
        "SELECT bool_and(c.lex_length = s.n) FROM chunks c JOIN (SELECT chunk_id, sum(tf) AS n "
        "FROM chunk_terms GROUP BY chunk_id) s ON s.chunk_id = c.id WHERE c.collection_id = :c"),
        {"c": col.id}).scalar_one()  # fmt: skip
    assert mismatched == 0 and lengths is True

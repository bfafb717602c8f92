"""The per-term cut of BM25 (BM25_TERM_POSTINGS, search/lexical.py): each query term reads
only its best-impact postings (the postings index keeps them in that order, migration 0018),
checked against a reference computed here from the raw postings; a cut above every term's
postings is exact BM25; hidden documents and filters past the cut fall back to the exact
query; the query reads the index in order (no sort); the setting refuses what is not a count.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.documents.models import Document, DocumentStatus
from app.search.filters import SearchScope
from app.search.lexical import _BM25_CANDIDATES, bm25_params, lexical_search, query_terms
from app.search.models import POSTING_IMPACT
from tests.test_bm25_index_only import exact, same
from tests.test_bm25_unit import STAGE_OF, add_document, make_collection

N = 30  # chunks containing "alpha"; every other one "beta" too


def _impact(tf: int, length: int) -> float:
    """models.POSTING_IMPACT, computed here: BM25's factor at k1 0.9, b 0.4, avgdl 64."""
    return tf / (tf + 0.9 * 0.6 + 0.9 * 0.4 * length / 64)


@pytest.fixture
def corpus(db: Session) -> Any:
    """N one-chunk documents (and N with other words): chunk i holds "alpha" 1 + i % 4 times,
    "beta" when i is even, and filler words unique to it up to 3 + i words, so every (tf,
    length) pair differs and no two postings of a term tie on impact."""
    col = make_collection(db)
    docs = []
    for i in range(N):
        tf = 1 + i % 4
        words = ["alpha"] * tf + (["beta"] if i % 2 == 0 else [])
        words += [f"f{i}x{j}" for j in range(3 + i - len(words))]
        doc, _ = add_document(db, col, [" ".join(words)], metadata={"n": i})
        docs.append(doc)
    for i in range(N):  # as many without "alpha", so its idf is not near zero (QUERY_MIN_IDF)
        add_document(db, col, [f"gamma g{i} h{i}"], metadata={"n": N + i})
    db.flush()
    yield col, docs
    db.rollback()


def reference(db: Session, query: str, scope: SearchScope, cap: int) -> list[tuple[int, float]]:
    """BM25 over each term's `cap` best postings by impact, from the raw postings table, every
    scored chunk best first (the chunks are all visible here)."""
    terms = query_terms(db, query, scope)
    _, params = bm25_params(terms, scope, 10, None, None)
    scores: dict[int, float] = {}
    for t in terms.terms:
        rows = db.execute(text("SELECT chunk_id, tf, lex_length FROM chunk_terms "
                               "WHERE collection_id = :c AND term = :t"),
                          {"c": t.collection_id, "t": t.term}).all()  # fmt: skip
        best = sorted(rows, key=lambda r: -_impact(r[1], r[2]))[:cap]
        for chunk_id, tf, length in best:
            part = t.idf * tf / (tf + params["norm_base"] + params["norm_per_term"] * length)
            scores[chunk_id] = scores.get(chunk_id, 0.0) + part
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def test_each_term_reads_only_its_best_impact_postings(db: Session, corpus: Any) -> None:
    col, _ = corpus
    scope = SearchScope([col.id])
    # limit 2: the first attempt's depth is 4, so each term reads max(5, 4) = 5 postings
    for query in ("alpha", "alpha beta", "beta"):
        want = reference(db, query, scope, 5)[:2]
        got = lexical_search(db, query, scope, 2, term_postings=5)
        assert [c for c, _ in got] == [c for c, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-9)
    # the cut changed something: exact BM25's order over the same query is not the cut one's
    assert reference(db, "alpha beta", scope, 5)[:5] != exact(db, "alpha beta", scope, 5)


def test_a_cut_above_every_terms_postings_is_exact_bm25(db: Session, corpus: Any) -> None:
    col, _ = corpus
    scope = SearchScope([col.id])
    for query in ("alpha", "alpha beta", "beta f3x1"):
        for limit in (1, 3, N):
            want = exact(db, query, scope, limit)
            assert same(lexical_search(db, query, scope, limit, term_postings=N + 1), want)
            assert same(lexical_search(db, query, scope, limit, term_postings=0), want)


def test_hidden_documents_among_the_best_postings_fall_back_to_exact(
    db: Session, corpus: Any
) -> None:
    col, _ = corpus
    scope = SearchScope([col.id])
    best = {c for c, _ in reference(db, "alpha", scope, 5)[:5]}
    owners = db.execute(text("SELECT document_id FROM chunks WHERE id = ANY(:i)"),
                        {"i": list(best)}).scalars().all()  # fmt: skip
    db.execute(update(Document).where(Document.id.in_(owners))
               .values(status=DocumentStatus.processing,
                       stage=STAGE_OF[DocumentStatus.processing]))  # fmt: skip
    db.flush()
    # every posting the cut reads is hidden: the next depths read deeper, then exactly
    got = lexical_search(db, "alpha", scope, 2, term_postings=5)
    assert len(got) == 2 and not best & {c for c, _ in got}
    assert same(got, exact(db, "alpha", scope, 2))


def test_a_filter_matching_only_a_chunk_past_the_cut_still_finds_it(
    db: Session, corpus: Any
) -> None:
    col, _ = corpus
    ranked = reference(db, "alpha", SearchScope([col.id]), N)
    worst = ranked[-1][0]  # the lowest-impact posting of "alpha": past every small cut
    n = db.execute(text("SELECT d.metadata->>'n' FROM chunks c JOIN documents d "
                        "ON d.id = c.document_id WHERE c.id = :i"), {"i": worst}).scalar_one()
    scope = SearchScope([col.id], metadata={"n": int(n)})
    got = lexical_search(db, "alpha", scope, 1, term_postings=3)
    assert [c for c, _ in got] == [worst]
    assert same(got, exact(db, "alpha", scope, 1))
    assert lexical_search(db, "alpha", SearchScope([col.id], metadata={"n": -1}), 1,
                          term_postings=3) == []  # fmt: skip


def _plan(db: Session, col: Any, impact: str) -> dict[str, Any]:
    scope = SearchScope([col.id])
    terms = query_terms(db, "alpha beta", scope)
    where, params = bm25_params(terms, scope, 2, None, None)
    sql = _BM25_CANDIDATES.format(scope=where, impact=impact)
    db.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: make an index the way
    db.execute(text("SET LOCAL enable_bitmapscan = off"))
    raw = db.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"),
                     {**params, "depth": 4, "term_postings": 5}).scalar_one()  # fmt: skip
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]  # type: ignore[no-any-return]


def _term_reads(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The input of every Limit that reads chunk_terms directly or through one Sort (the
    per-term LATERAL; the outer Limit of the scores reads an aggregate)."""
    found = []
    for child in node.get("Plans", []):
        scan = child["Plans"][0] if child["Node Type"] == "Sort" else child
        if node["Node Type"] == "Limit" and scan.get("Relation Name") == "chunk_terms":
            found.append(child)
        found += _term_reads(child)
    return found


def test_each_term_is_read_in_index_order_and_stops_at_the_cut(
    db: Session, corpus: Any
) -> None:
    col, _ = corpus
    reads = _term_reads(_plan(db, col, POSTING_IMPACT))
    assert reads and all(
        r["Node Type"] in ("Index Only Scan", "Index Scan")
        and r["Index Name"] == "ix_chunk_terms_collection_term" for r in reads
    ), reads
    # the check can fail: an expression the index does not hold needs a sort under the limit
    other = POSTING_IMPACT.replace("0.54", "0.55")
    assert all(r["Node Type"] == "Sort" for r in _term_reads(_plan(db, col, other)))


@pytest.mark.parametrize("value", ["-1", "many", "2.5"])
def test_settings_refuse_a_term_postings_cut_that_is_not_a_count(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from app.core.config import Settings

    monkeypatch.setenv("BM25_TERM_POSTINGS", value)
    with pytest.raises(ValidationError, match="bm25_term_postings"):
        Settings()


def test_the_setting_sets_the_cut_and_its_default_is_exact_bm25(
    db: Session, corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import Settings, get_settings

    col, _ = corpus
    scope = SearchScope([col.id])
    assert Settings().bm25_term_postings == 0
    assert same(lexical_search(db, "alpha beta", scope, 2), exact(db, "alpha beta", scope, 2))
    monkeypatch.setenv("BM25_TERM_POSTINGS", "5")
    get_settings.cache_clear()
    try:
        cut = lexical_search(db, "alpha beta", scope, 2)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert cut == lexical_search(db, "alpha beta", scope, 2, term_postings=5)
    assert cut != lexical_search(db, "alpha beta", scope, 2, term_postings=0)

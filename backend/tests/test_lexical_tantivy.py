"""BM25 from a collection's tantivy copy (LEXICAL_ENGINE=tantivy, search/tantivy_index.py and
search/lexical_sync.py) on committed collections written by the real write path: the copy
answers only at the collection's current version, is replayed document by document, rebuilt
when a change record is missing, skipped while another writer holds it, dropped with its
collection, and never lets one collection's statistics reach another's scores.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from app.collections.models import Collection
from app.core.config import get_settings
from app.documents.models import Document, DocumentStatus
from app.documents.repository import drop_chunks
from app.search import lexical_index, lexical_sync
from app.search.filters import SearchScope
from app.search.lexical import lexical_search, query_terms
from app.search.lexical_sync import Synced, sync_collection
from app.search.tantivy_index import IndexBusy, Replica, chunk_body
from tests.test_bm25_unit import add_document, make_collection

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon"]  # fmt: skip
QUERIES = ["alpha", "alpha beta", "omicron pi rho", "gamma delta epsilon zeta", "kappa mu nu"]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS[:10], k=rng.randint(3, 9)) + rng.choices(WORDS, k=3))


@pytest.fixture
def committed(db: Session) -> Iterator[Callable[..., Collection]]:
    """Collections of 20 ready documents of 3 chunks, committed (the sync reads its own
    snapshot), deleted at the end."""
    made: list[Collection] = []

    def make(docs: int = 20, seed: int = 5) -> Collection:
        rng = random.Random(seed)
        col = make_collection(db)
        for _ in range(docs):
            add_document(db, col, [_text(rng) for _ in range(3)])
        db.commit()
        made.append(col)
        return col

    yield make
    db.rollback()
    for col in made:
        db.execute(delete(Collection).where(Collection.id == col.id))
    db.commit()


def synced(col: Collection) -> tuple[Replica, Synced]:
    """The collection's copy brought to its version (waiting out the API's own sync thread,
    which may hold the writer for a moment)."""
    replica = lexical_sync.get_sync().replicas.get(col.id, create=True)
    assert replica is not None
    for _ in range(100):
        try:
            done = sync_collection(replica, col.id)
            assert done is not None
            return replica, done
        except IndexBusy:
            time.sleep(0.05)
    raise AssertionError("the copy's writer stayed busy")


@contextmanager
def writer_held(replica: Replica) -> Iterator[None]:
    """The copy's writer taken, as another API process would hold it: no sync can move it
    (the API's own sync thread included), so it stays behind while the test looks."""
    writer = Replica(replica.path).index.writer(heap_size=15_000_000, num_threads=1)
    try:
        yield
    finally:
        writer.rollback()
        del writer


def version(db: Session, col: Collection) -> int:
    db.expire_all()
    return int(db.execute(text("SELECT lexical_version FROM collections WHERE id = :c"),
                          {"c": col.id}).scalar_one())  # fmt: skip


@contextmanager
def postgres_engine() -> Iterator[None]:
    """LEXICAL_ENGINE=postgres for the block: Postgres' own BM25, no copy asked."""
    settings = get_settings()
    engine, settings.lexical_engine = settings.lexical_engine, "postgres"
    try:
        yield
    finally:
        settings.lexical_engine = engine


def postgres_bm25(db: Session, query: str, scope: SearchScope, limit: int) -> dict[int, float]:
    """Postgres' BM25 at tantivy's constants (k1 1.2, b 0.75), every posting read."""
    with postgres_engine():
        return dict(lexical_search(db, query, scope, limit, k1=1.2, b=0.75))


def copy_hits(db: Session, col: Collection, query: str, depth: int) -> list[tuple[int, float]]:
    terms = query_terms(db, query, SearchScope([col.id]))
    idfs = {t.term: t.idf for t in terms.terms}
    found = lexical_sync.search(col.id, version(db, col), idfs, depth)
    assert found is not None, "the copy is not current"
    return found


def test_a_current_copy_answers_bm25_as_postgres_scores_it(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    _, done = synced(col)
    assert done.rebuilt and done.chunks == 60 and done.version == version(db, col)
    scope = SearchScope([col.id])
    for query in QUERIES:
        got = lexical_search(db, query, scope, 10)
        served = copy_hits(db, col, query, 20)[:10]  # from the copy (f32 sums: last bits vary)
        assert [c for c, _ in got] == [c for c, _ in served], query
        assert [s for _, s in got] == pytest.approx([s for _, s in served], rel=1e-5), query
        reference = postgres_bm25(db, query, scope, 60)
        tenth = sorted(reference.values(), reverse=True)[min(9, len(reference) - 1)]
        for chunk_id, score in got:
            # the copy counts one more document (its version) and stores lengths in a byte
            assert score == pytest.approx(reference[chunk_id], rel=0.03), query
            assert reference[chunk_id] >= tenth * 0.97, query


def test_a_write_is_found_at_once_though_the_copy_is_behind(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    replica, _ = synced(col)
    with writer_held(replica):
        _, (new,) = add_document(db, col, ["upsilon upsilon upsilon zzlatest"])
        db.commit()
        held = replica.version()
        assert held is not None and held < version(db, col)
        terms = query_terms(db, "zzlatest", SearchScope([col.id]))
        idfs = {t.term: t.idf for t in terms.terms}
        assert lexical_sync.search(col.id, version(db, col), idfs, 10) is None
        assert [c for c, _ in lexical_search(db, "zzlatest", SearchScope([col.id]), 5)] == [new]
    _, done = synced(col)
    assert not done.rebuilt and done.chunks == 1  # replayed: one document, one chunk
    assert [c for c, _ in copy_hits(db, col, "zzlatest", 5)] == [new]


def test_a_copy_at_another_version_than_wanted_is_not_searched(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    replica, _ = synced(col)
    terms = query_terms(db, QUERIES[0], SearchScope([col.id]))
    idfs = {t.term: t.idf for t in terms.terms}
    now = version(db, col)
    held, hits = replica.search(idfs, 10, now)
    assert held == now and len(hits) == 10  # current: searched
    assert replica.search(idfs, 10, now + 1) == (now, [])  # behind what the caller read
    assert replica.search(idfs, 10, now - 1) == (now, [])  # ahead of the caller's snapshot
    assert replica.search(idfs, 10) == (held, hits)  # no version asked: searched as it is


def test_a_copy_never_written_answers_no_version_and_nothing(tmp_path: Path) -> None:
    empty = Replica(tmp_path / "never")
    assert empty.search({"alpha": 1.0}, 10, 1) == (None, [])
    assert empty.search({"alpha": 1.0}, 10) == (None, [])


def test_a_deleted_document_is_replayed_out_of_the_copy(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    doc, chunks = add_document(db, col, ["zzgone alpha", "zzgone beta"])
    db.commit()
    synced(col)
    assert {c for c, _ in copy_hits(db, col, "zzgone", 10)} == set(chunks)
    drop_chunks(db, doc.id)
    db.execute(delete(Document).where(Document.id == doc.id))
    db.commit()
    _, done = synced(col)
    assert not done.rebuilt and done.chunks == 0
    assert copy_hits(db, col, "zzgone", 10) == []
    assert lexical_search(db, "zzgone", SearchScope([col.id]), 10) == []


def test_a_version_without_its_change_record_rebuilds_the_copy(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    synced(col)
    # what a bulk load does (bench/synthetic_corpus.py): postings written, version raised,
    # no record of which documents changed
    db.execute(text("UPDATE collections SET lexical_version = lexical_version + 1 "
                    "WHERE id = :c"), {"c": col.id})  # fmt: skip
    db.commit()
    _, done = synced(col)
    assert done.rebuilt and done.chunks == 60 and done.version == version(db, col)


def test_the_scope_is_checked_on_the_copys_candidates(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    hidden, hidden_chunks = add_document(db, col, ["zzhide alpha"] * 2,
                                         status=DocumentStatus.processing)  # fmt: skip
    team, team_chunks = add_document(db, col, ["zzhide beta"], metadata={"team": "x"})
    db.commit()
    synced(col)
    in_copy = {c for c, _ in copy_hits(db, col, "zzhide", 10)}
    assert in_copy == set(hidden_chunks) | set(team_chunks)  # the copy holds every chunk
    assert [c for c, _ in lexical_search(db, "zzhide", SearchScope([col.id]), 10)] == team_chunks
    scope = SearchScope([col.id], metadata={"team": "y"})
    assert lexical_search(db, "zzhide", scope, 10) == []
    assert hidden.id != team.id


def test_a_scope_of_two_collections_merges_their_copies_with_shared_idf(
    db: Session, committed: Callable[..., Collection]
) -> None:
    first, second = committed(seed=1), committed(seed=2, docs=40)
    synced(first)
    synced(second)
    scope = SearchScope([first.id, second.id])
    for query in QUERIES:
        got = lexical_search(db, query, scope, 10)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True), query
        # Postgres sums both collections' statistics; the copies share its idf but each
        # keeps its own average length, so the scores are close, not equal
        reference = postgres_bm25(db, query, scope, 200)
        tenth = sorted(reference.values(), reverse=True)[min(9, len(reference) - 1)]
        for chunk_id, score in got:
            assert score == pytest.approx(reference[chunk_id], rel=0.05), query
            assert reference[chunk_id] >= tenth * 0.95, query
        assert {c for c, _ in got} & set(dict(copy_hits(db, second, query, 200))), query


def test_a_scope_with_a_copy_behind_is_answered_by_postgres_whole(
    db: Session, committed: Callable[..., Collection]
) -> None:
    first, second = committed(seed=1), committed(seed=2)
    synced(first)
    behind, _ = synced(second)
    scope = SearchScope([first.id, second.id])
    with writer_held(behind):
        _, (new,) = add_document(db, second, ["alpha zzboth"])
        db.commit()  # the second copy is now behind, and stays so
        got = lexical_search(db, "alpha zzboth", scope, 10)
        assert got[0][0] == new
        with postgres_engine():
            assert got == lexical_search(db, "alpha zzboth", scope, 10)  # Postgres' answer


def test_another_collections_documents_never_change_a_copys_scores(
    db: Session, committed: Callable[..., Collection]
) -> None:
    mine = committed(seed=3)
    synced(mine)
    before = lexical_search(db, "alpha beta", SearchScope([mine.id]), 10)
    theirs = make_collection(db)  # another owner's collection, full of the same terms
    for _ in range(30):
        add_document(db, theirs, ["alpha alpha beta", "alpha"])
    db.commit()
    try:
        synced(theirs)
        synced(mine)
        after = lexical_search(db, "alpha beta", SearchScope([mine.id]), 10)
        assert after == before
        assert not {c for c, _ in after} & {c for c, _ in copy_hits(db, theirs, "alpha", 100)}
    finally:
        db.execute(delete(Collection).where(Collection.id == theirs.id))
        db.commit()


def test_a_copy_whose_writer_is_held_elsewhere_is_skipped_and_postgres_answers(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    replica, _ = synced(col)
    with writer_held(replica):
        _, (new,) = add_document(db, col, ["zzheld"])
        db.commit()
        with pytest.raises(IndexBusy):
            sync_collection(replica, col.id)
        lexical_sync.get_sync().run_once()  # skips it without failing
        assert replica.version() != version(db, col)
        assert [c for c, _ in lexical_search(db, "zzheld", SearchScope([col.id]), 5)] == [new]
    _, done = synced(col)
    assert done.version == version(db, col)


def test_a_deleted_collection_loses_its_copy(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed()
    replica, _ = synced(col)
    assert replica.path.is_dir()
    db.execute(delete(Collection).where(Collection.id == col.id))
    db.commit()
    sync = lexical_sync.get_sync()
    sync.run_once()
    assert not replica.path.exists()
    assert sync.replicas.get(col.id) is None
    assert col.id not in sync.replicas.collections()


def test_a_lexeme_with_whitespace_stays_one_token() -> None:
    assert chunk_body(["a b", "c"], [2, 1]) == "a\x1fb a\x1fb c"
    with pytest.raises(ValueError):
        chunk_body(["a"], [1, 2])
    assert uuid.UUID(int=0) not in lexical_sync.get_sync().replicas.collections()


def test_no_copy_is_used_with_the_postgres_engine(
    db: Session, committed: Callable[..., Collection], monkeypatch: pytest.MonkeyPatch
) -> None:
    col = committed()
    synced(col)
    monkeypatch.setattr(get_settings(), "lexical_engine", "postgres")
    calls: list[Any] = []
    monkeypatch.setattr(lexical_sync, "search", lambda *a: calls.append(a))
    assert lexical_search(db, "alpha", SearchScope([col.id]), 5)
    assert calls == []


def test_the_change_log_keeps_each_collections_last_records_only(
    db: Session, committed: Callable[..., Collection]
) -> None:
    col = committed(docs=2)
    keep = lexical_index.KEEP_CHANGES
    db.execute(text("UPDATE collections SET lexical_version = :v WHERE id = :c"),
               {"v": 2 * keep, "c": col.id})  # fmt: skip
    for old in (3, keep, keep + 1):  # as if written long ago
        db.execute(text("INSERT INTO lexical_changes VALUES (:c, :v, :d)"),
                   {"c": col.id, "v": old, "d": uuid.uuid4()})  # fmt: skip
    add_document(db, col, ["omega"])  # version 2 * keep + 1
    db.commit()
    kept = db.execute(text("SELECT version FROM lexical_changes WHERE collection_id = :c "
                           "ORDER BY version"), {"c": col.id}).scalars().all()  # fmt: skip
    assert kept == [2 * keep + 1]
    # the records the replica needs are gone: it rebuilds
    assert lexical_index.changed_documents(db, col.id, keep, 2 * keep + 1) is None
    _, done = synced(col)
    assert done.rebuilt and done.version == 2 * keep + 1 and done.chunks == 7

"""Chunk vectors go to Postgres in pgvector's binary form (search/bulk_index.py): what is
stored is the float32 of every value sent, and the column's own checks still refuse a vector
of the wrong size or with a value that is not finite, with nothing written."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.collections.models import Collection
from app.documents.models import Chunk
from tests.test_bm25_unit import add_document, make_collection


@pytest.fixture
def col(db: Session) -> Iterator[Collection]:
    yield make_collection(db)
    db.rollback()


def _vectors(count: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(count, 384))
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    # Python floats of float64 values (not float32): what is stored is their float32
    return [list(map(float, row)) for row in out]


def test_stored_vectors_are_the_float32_of_the_values_sent(db: Session, col: Collection) -> None:
    sent = _vectors(3, seed=1)
    sent[2][:4] = [0.0, -0.0, 1e-30, -3.4e38]  # zero, a tiny and a huge float32
    doc, ids = add_document(db, col, ["one", "two", "three"], vectors=sent)
    stored = [np.asarray(v, dtype=np.float32) for v in db.scalars(
        select(Chunk.embedding).where(Chunk.document_id == doc.id).order_by(Chunk.ordinal)
    )]  # fmt: skip
    assert len(ids) == 3
    for got, want in zip(stored, sent, strict=True):
        assert np.array_equal(got, np.asarray(want, dtype=np.float32))
    # and the same as the text form Postgres parses (the way vectors were written before)
    for chunk_id, want in zip(ids, sent, strict=True):
        literal = "[" + ",".join(map(str, want)) + "]"
        same = db.scalar(text("SELECT embedding = CAST(:v AS vector) FROM chunks WHERE id = :id"),
                         {"v": literal, "id": chunk_id})
        assert same is True


def _chunks_of_collection(db: Session, col: Collection) -> int:
    return int(db.scalar(select(func.count()).where(Chunk.collection_id == col.id)) or 0)


def test_a_vector_of_the_wrong_size_is_refused_and_nothing_is_written(
    db: Session, col: Collection
) -> None:
    db.commit()  # the collection stays; the failed write must leave nothing beside it
    try:
        with pytest.raises(pg_errors.DataException, match="384"):
            add_document(db, col, ["fine", "too short"], vectors=[[1.0] + [0.0] * 383, [1.0] * 383])
        db.rollback()
        assert _chunks_of_collection(db, col) == 0
        assert db.scalar(text("SELECT chunk_count FROM collections WHERE id = :c"),
                         {"c": col.id}) == 0
    finally:
        db.rollback()
        db.delete(db.get(Collection, col.id))
        db.commit()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_vector_with_a_value_that_is_not_finite_is_refused(
    db: Session, col: Collection, bad: float
) -> None:
    vector = [1.0] + [0.0] * 383
    vector[7] = bad
    with pytest.raises(pg_errors.DataException):
        add_document(db, col, ["not finite"], vectors=[vector])
    db.rollback()
    assert _chunks_of_collection(db, col) == 0

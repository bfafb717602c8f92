"""Queries of the images domain. Nothing here commits: the caller owns the transaction.

Every read takes the caller's readable collection ids (already resolved by the service from
collections/access.py) and puts them inside its own SQL, so access rules never post-filter.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.images.analysis import ImageAnalysis, description
from app.images.models import ImageVector, to_signed
from app.labels import work_repository
from app.labels.models import Label, LabelSource, RunStatus
from app.labels.repository import ModelLabel, replace_model_labels

OBJECT_KINDS = ("object",)
VISION_RUN = "vision"  # the labeler run recording the ingest's image analysis
SAFETY_KINDS = ("safety",)


def save(
    session: Session, *, document_id: uuid.UUID, collection_id: uuid.UUID, analysis: ImageAnalysis
) -> None:
    """Write (or replace) the image row and its object/safety model labels, in the caller's
    transaction. Idempotent: a re-ingest replaces the row and the model labels; human labels
    and human rejections stay (labels.repository.replace_model_labels)."""
    values: dict[str, Any] = {
        "collection_id": collection_id,
        "model": analysis.model,
        "vector": analysis.vector,
        "phash": to_signed(analysis.phash),
        "nsfw": analysis.nsfw,
        "objects": [{"value": v, "confidence": c} for v, c in analysis.objects],
        "labeler": analysis.labeler,
        "description": description(analysis),
    }
    stmt = insert(ImageVector).values(document_id=document_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ImageVector.document_id], set_={**values, "updated_at": text("now()")}
        )
    )
    name, _, version = (analysis.labeler or "none@").partition("@")
    replace_model_labels(
        session,
        document_id=document_id,
        collection_id=collection_id,
        kinds=OBJECT_KINDS,
        labels=[ModelLabel("object", v, c) for v, c in analysis.objects],
        model_name=name,
        model_version=version,
    )
    name, _, version = (analysis.safety_model or "none@").partition("@")
    replace_model_labels(
        session,
        document_id=document_id,
        collection_id=collection_id,
        kinds=SAFETY_KINDS,
        labels=[] if analysis.nsfw is None else [ModelLabel("safety", "nsfw", analysis.nsfw)],
        model_name=name,
        model_version=version,
    )


def record_ingest(
    session: Session,
    *,
    document_id: uuid.UUID,
    collection_id: uuid.UUID,
    analysis: ImageAnalysis | None,
    error: str | None,
) -> None:
    """What the ingest's look at an image found, in the ingest write's transaction: the
    analysis saved (row and labels), or, when the vision models failed, no image row and no
    model object/safety labels; either way the document's `vision` labeler run says which,
    with its time or the reason (GET /documents/{id}/labels lists it)."""
    if analysis is None:
        forget(session, document_id)
    else:
        save(session, document_id=document_id, collection_id=collection_id, analysis=analysis)
    status = RunStatus.failed if analysis is None else RunStatus.done
    ms = round(sum(analysis.timings_ms.values()), 1) if analysis is not None else 0.0
    work_repository.set_runs(session, document_id, [VISION_RUN], status)
    work_repository.finish_run(session, document_id, VISION_RUN, status, error=error, ms=ms)


def forget(session: Session, document_id: uuid.UUID) -> None:
    """Drop the document's image row and model object/safety labels (a re-ingest that no
    longer has them, or a failed document)."""
    session.execute(delete(ImageVector).where(ImageVector.document_id == document_id))
    session.execute(
        delete(Label).where(
            Label.document_id == document_id,
            Label.source == LabelSource.model.value,
            Label.kind.in_(OBJECT_KINDS + SAFETY_KINDS),
        )
    )


def readable(
    session: Session, document_id: uuid.UUID, collection_ids: list[uuid.UUID]
) -> ImageVector | None:
    return session.scalar(
        select(ImageVector).where(
            ImageVector.document_id == document_id,
            ImageVector.collection_id.in_(collection_ids),
        )
    )


@dataclass(frozen=True)
class ImageHit:
    document_id: uuid.UUID
    score: float
    chunk_id: int
    filename: str
    collection: str
    page: int | None
    ordinal: int
    char_start: int
    char_end: int
    text: str
    metadata: dict[str, Any]


# Each image document is shown through its first chunk (after the ingest wiring: the image's
# description chunk); an image whose document is not ready, or has no chunk, is not a hit.
_HIT = """
    SELECT r.document_id, r.score, ch.id, d.filename, col.name, ch.page, ch.ordinal,
           ch.char_start, ch.char_end, ch.text, d.metadata
    FROM ranked r
    JOIN documents d ON d.id = r.document_id AND d.status = 'ready'
    JOIN collections col ON col.id = d.collection_id
    JOIN LATERAL (SELECT c.id, c.page, c.ordinal, c.char_start, c.char_end, c.text
                  FROM chunks c WHERE c.document_id = r.document_id
                    AND c.granularity = 'chunk'
                  ORDER BY c.ordinal LIMIT 1) ch ON true
    ORDER BY r.score DESC, r.document_id"""
_SCOPE = "iv.collection_id = ANY(:cols) AND iv.model = :model AND iv.document_id <> :exclude"


def similar(
    session: Session,
    vector: list[float],
    *,
    model: str,
    collection_ids: list[uuid.UUID],
    k: int,
    exclude: uuid.UUID | None = None,
) -> tuple[list[ImageHit], int]:
    """The k images of `model` nearest to `vector` (cosine) in the collections, best first,
    and how many images were candidates. Exact scan below EXACT_SEARCH_MAX_CHUNKS candidates
    (perfect recall); above, the HNSW index, re-run exactly if it came back short."""
    settings = get_settings()
    params: dict[str, Any] = {
        "cols": list(collection_ids),
        "model": model,
        "exclude": exclude or uuid.UUID(int=0),
        "qv": "[" + ",".join(f"{x:.7g}" for x in vector) + "]",
        "k": k,
    }
    count = f"SELECT count(*) FROM image_vectors iv WHERE {_SCOPE}"
    candidates: int = session.execute(text(count), params).scalar_one()
    if candidates == 0:
        return [], 0
    rows: list[Any] = []
    if candidates > settings.exact_search_max_chunks:
        ef = min(max(settings.hnsw_ef_search, k), 1000)
        session.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef)}"))
        rows = _hits(session, "", params)
    if len(rows) < min(k, candidates):
        rows = _hits(session, "MATERIALIZED", params)  # MATERIALIZED: an exact scan
    return [ImageHit(*row) for row in rows], candidates


def _hits(session: Session, materialized: str, params: dict[str, Any]) -> list[Any]:
    sql = f"""
        WITH cand AS {materialized} (
            SELECT iv.document_id, iv.vector FROM image_vectors iv WHERE {_SCOPE}),
        ranked AS (
            SELECT document_id, 1 - (vector <=> CAST(:qv AS vector)) AS score FROM cand
            ORDER BY vector <=> CAST(:qv AS vector), document_id LIMIT :k)
        {_HIT}"""
    return list(session.execute(text(sql), params).all())


@dataclass(frozen=True)
class NearDuplicate:
    document_id: uuid.UUID
    filename: str
    collection: str
    distance: int


def near_duplicates(
    session: Session,
    phash: int,
    *,
    collection_ids: list[uuid.UUID],
    max_distance: int,
    exclude: uuid.UUID,
    limit: int = 100,
) -> list[NearDuplicate]:
    """Images whose perceptual hash differs from `phash` (signed, as stored) in at most
    `max_distance` bits, nearest first."""
    sql = """
        SELECT iv.document_id, d.filename, col.name,
               bit_count(CAST(iv.phash AS bit(64)) # CAST(CAST(:ph AS bigint) AS bit(64))) AS dist
        FROM image_vectors iv
        JOIN documents d ON d.id = iv.document_id AND d.status = 'ready'
        JOIN collections col ON col.id = iv.collection_id
        WHERE iv.collection_id = ANY(:cols) AND iv.document_id <> :exclude
          AND bit_count(CAST(iv.phash AS bit(64)) # CAST(CAST(:ph AS bigint) AS bit(64)))
              <= :maxd
        ORDER BY dist, d.filename, iv.document_id LIMIT :limit"""
    rows = session.execute(
        text(sql),
        {"ph": phash, "cols": list(collection_ids), "exclude": exclude, "maxd": max_distance,
         "limit": limit},
    ).all()
    return [NearDuplicate(r[0], r[1], r[2], int(r[3])) for r in rows]

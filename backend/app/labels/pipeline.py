"""What the `label` worker does to one document, top to bottom:

read the ready document's chunks (text and stored vectors) and its collection's taxonomy →
mark its labelers' runs running → for each labeler in order: label → write its labels with
`replace_model_labels` and mark its run done, in ONE transaction under the document's row
lock; a labeler that raises marks only its own run failed, with the reason, and the next
one runs. Like ingest/pipeline.py, each step is a short `session_scope()` of its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from app.core.db import session_scope
from app.core.logging import get_logger
from app.labels import repository, work_repository
from app.labels.labelers import (
    Labeler,
    LabelerError,
    LabelSource,
    TaxonomyVersion,
    get_labelers,
    parse_taxonomy,
)
from app.labels.models import RunStatus
from app.metrics import registry as ingest_metrics

log = get_logger(__name__)


def _source(document_id: uuid.UUID, taxonomy_version: int | None) -> LabelSource | None:
    with session_scope() as session:
        doc = work_repository.ready_document(session, document_id, lock=False)
        if doc is None:
            return None
        rows = work_repository.chunk_rows(session, document_id)
        stored = work_repository.taxonomy(session, doc.collection_id, taxonomy_version)
        taxonomy: TaxonomyVersion | None = None
        error: str | None = None
        if stored is not None:
            try:
                taxonomy = parse_taxonomy(stored.version, stored.labels)
            except LabelerError as exc:
                error = str(exc)
        elif taxonomy_version is not None:
            error = f"Taxonomy version {taxonomy_version} does not exist."
        return LabelSource(
            document_id=document_id,
            collection_id=doc.collection_id,
            chunk_ids=[row[0] for row in rows],
            texts=[row[1] for row in rows],
            vectors=[[float(x) for x in row[2]] for row in rows],
            sources=[row[3] for row in rows],
            taxonomy=taxonomy,
            taxonomy_error=error,
        )


def run(
    document_id: uuid.UUID,
    only: Sequence[str] | None = None,
    taxonomy_version: int | None = None,
) -> dict[str, str]:
    """Label one document with the configured labelers (or those named in `only`); returns
    each labeler's outcome. A document that is not ready (deleted, or re-ingesting: its
    ingest enqueues labeling again when it is ready) is left alone."""
    labelers = get_labelers(only)
    source = _source(document_id, taxonomy_version)
    if source is None:
        return {"document": "not_ready"}
    with session_scope() as session:
        work_repository.set_runs(session, document_id, [lab.name for lab in labelers],
                                 RunStatus.running)
    outcome: dict[str, str] = {}
    clock = time.perf_counter()
    for labeler in labelers:
        outcome[labeler.name] = _run_one(labeler, source)
        if outcome[labeler.name] == "gone":
            break
    ingest_metrics.record_stage("label", time.perf_counter() - clock)
    return outcome


def _run_one(labeler: Labeler, source: LabelSource) -> str:
    clock = time.perf_counter()
    try:
        labels = labeler.label(source)
    except Exception as exc:
        ms = _ms(clock)
        # A LabelerError's message is written for people; anything else is named by type.
        reason = str(exc) if isinstance(exc, LabelerError) else f"{type(exc).__name__}: {exc}"
        with session_scope() as session:
            work_repository.finish_run(session, source.document_id, labeler.name,
                                       RunStatus.failed, error=reason[:2000], ms=ms)
        log.warning("labeler_failed", document_id=str(source.document_id),
                    labeler=labeler.name, reason=reason, ms=ms)
        return "failed"
    taxonomy = source.taxonomy if labeler.uses_taxonomy else None
    with session_scope() as session:
        if work_repository.ready_document(session, source.document_id, lock=True) is None:
            return "gone"  # deleted or re-ingesting meanwhile: its labels would be stale
        written = repository.replace_model_labels(
            session,
            document_id=source.document_id,
            collection_id=source.collection_id,
            kinds=labeler.kinds,
            labels=labels,
            model_name=labeler.model_name,
            model_version=labeler.model_version,
            taxonomy_version=taxonomy.version if taxonomy is not None else None,
        )
        ms = _ms(clock)
        work_repository.finish_run(session, source.document_id, labeler.name, RunStatus.done,
                                   error=None, ms=ms)
    log.info("labeler_done", document_id=str(source.document_id), labeler=labeler.name,
             labels=written, ms=ms)
    return "done"


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)

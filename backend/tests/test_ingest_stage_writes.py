"""The ingest's bookkeeping writes: a stage transition is one UPDATE that never loads the
document, and the write that makes a document ready also sets its label runs pending, so
the task only sends the document to the label queue."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from sqlalchemy import event, select, text, update

import app.ingest.pipeline as pipeline
from app.core.db import get_engine, session_scope
from app.documents import repository, tasks
from app.documents.models import Document
from app.documents.stages import IngestStage, InvalidTransition
from app.labels.models import LabelerRun
from tests.conftest import upload_ready

TEXT = b"Tide tables list high and low water for every harbour along the coast. " * 20


def _put_at(db: Any, doc_id: uuid.UUID, stage: str, status: str) -> None:
    db.execute(
        text("UPDATE documents SET stage = :stage, status = CAST(:status AS document_status), "
             "page_count = NULL WHERE id = :id"),
        {"stage": stage, "status": status, "id": doc_id},
    )  # fmt: skip
    db.commit()


def _row(db: Any, doc_id: uuid.UUID) -> tuple[str, str, int | None, Any]:
    db.rollback()
    r = db.execute(
        select(Document.stage, Document.status, Document.page_count, Document.updated_at)
        .where(Document.id == doc_id)
    ).one()
    return r.stage, str(r.status.value if hasattr(r.status, "value") else r.status), \
        r.page_count, r.updated_at


def _runs(db: Any, doc_id: uuid.UUID) -> dict[str, tuple[str, int]]:
    db.rollback()
    rows = db.execute(select(LabelerRun).where(LabelerRun.document_id == doc_id)).scalars()
    return {r.labeler: (r.status, r.attempts) for r in rows}


def _wait_labelled(db: Any, doc_id: uuid.UUID, timeout: float = 120.0) -> None:
    """Until the label worker has finished the document's runs from its upload."""
    deadline = time.monotonic() + timeout
    while True:
        runs = _runs(db, doc_id)
        if runs and all(status == "done" for status, _ in runs.values()):
            return
        assert time.monotonic() < deadline, runs
        time.sleep(0.2)


@pytest.fixture
def doc_id(client: Any, collection_name: str, db: Any) -> uuid.UUID:
    [doc] = upload_ready(client, [("tides.txt", TEXT + uuid.uuid4().bytes.hex().encode())],
                         collection_name)  # fmt: skip
    found = uuid.UUID(doc)
    _wait_labelled(db, found)
    return found


def test_a_stage_moves_and_sets_its_fields_in_one_update(db: Any, doc_id: uuid.UUID) -> None:
    _put_at(db, doc_id, "parsing", "processing")
    before = _row(db, doc_id)[3]
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement.lstrip().split()[0].upper())

    event.listen(get_engine(), "before_cursor_execute", seen)
    try:
        pipeline._set_stage(doc_id, IngestStage.chunking, page_count=3)
    finally:
        event.remove(get_engine(), "before_cursor_execute", seen)
    assert statements.count("UPDATE") == 1 and "SELECT" not in statements, statements
    stage, status, pages, updated = _row(db, doc_id)
    assert (stage, status, pages) == ("chunking", "processing", 3)
    assert updated >= before


def test_a_stage_move_the_machine_refuses_changes_nothing(db: Any, doc_id: uuid.UUID) -> None:
    """A re-ingest queued the document meanwhile: the old run may not carry on to `chunking`."""
    _put_at(db, doc_id, "queued", "queued")
    with pytest.raises(InvalidTransition):
        pipeline._set_stage(doc_id, IngestStage.chunking, page_count=7)
    assert _row(db, doc_id)[:3] == ("queued", "queued", None)
    with session_scope() as session:  # the repository says where the document stayed
        assert repository.advance_stage(session, doc_id, IngestStage.writing) == "queued"


def test_a_stage_move_of_a_deleted_document_reports_it_gone(db: Any) -> None:
    missing = uuid.uuid4()
    with pytest.raises(pipeline.DocumentGone):
        pipeline._set_stage(missing, IngestStage.parsing)
    with session_scope() as session:
        assert repository.advance_stage(session, missing, IngestStage.parsing) is None


def test_the_write_that_makes_a_document_ready_sets_its_label_runs_pending(
    db: Any, doc_id: uuid.UUID
) -> None:
    """Called directly, the pipeline sends nothing to the label queue, so what the runs show
    is the write's own doing: pending, attempts counted from zero, with the ready document."""
    db.execute(update(LabelerRun).where(LabelerRun.document_id == doc_id).values(attempts=3))
    db.commit()
    outcome = pipeline.run(doc_id)
    assert (outcome.status, outcome.written) == ("ready", True)
    assert set(_runs(db, doc_id).values()) == {("pending", 0)}
    assert _row(db, doc_id)[:2] == ("done", "ready")


def test_a_lost_label_hand_off_leaves_the_runs_pending_for_the_reconciler(
    db: Any, doc_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.labels import queue

    def broker_down(_document_id: uuid.UUID) -> bool:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(queue, "send_label_document", broker_down)
    _put_at(db, doc_id, "queued", "queued")
    db.execute(update(Document).where(Document.id == doc_id).values(task_id=None))
    db.commit()
    result = tasks.ingest.apply(args=[str(doc_id)]).get()
    assert result["status"] == "ready"  # the document is searchable all the same
    assert {status for status, _ in _runs(db, doc_id).values()} == {"pending"}


def test_a_task_redelivered_after_the_write_queues_labels_the_old_way(
    db: Any, doc_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing was written by the redelivered run, so the runs are set pending by the
    label hand-off itself (jobs.queue_document), not left as they were."""
    from app.labels import jobs, queue

    sent: list[tuple[str, uuid.UUID]] = []
    monkeypatch.setattr(queue, "send_label_document",
                        lambda d: bool(sent.append(("send", d))))  # fmt: skip
    monkeypatch.setattr(jobs, "queue_document", lambda d: bool(sent.append(("queue", d))))
    db.rollback()
    task_id = db.scalar(select(Document.task_id).where(Document.id == doc_id))
    outcome = pipeline.run(doc_id, task_id)
    assert (outcome.status, outcome.written) == ("ready", False)
    tasks._queue_labels(doc_id, written=outcome.written)
    assert sent == [("queue", doc_id)]


def _stages_written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stages the pipeline's run writes between `fetching` and the write (the real
    writes still happen)."""
    written: list[str] = []
    real = pipeline._set_stage

    def record(document_id: uuid.UUID, stage: IngestStage, **fields: object) -> None:
        written.append(stage.value)
        real(document_id, stage, **fields)

    monkeypatch.setattr(pipeline, "_set_stage", record)
    return written


def test_a_small_text_file_goes_from_fetching_to_done_without_the_stage_writes_between(
    db: Any, doc_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _stages_written(monkeypatch)
    _put_at(db, doc_id, "queued", "queued")
    db.execute(update(Document).where(Document.id == doc_id).values(task_id=None))
    db.commit()
    assert pipeline.run(doc_id).status == "ready"
    assert written == []
    assert _row(db, doc_id)[:2] == ("done", "ready")


def test_a_long_text_file_writes_every_stage_it_spends_time_in(
    client: Any, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = b" ".join(b"Sentence %d about tides, harbours and moorings." % i for i in range(600))
    assert len(long) > pipeline.QUICK_TEXT_CHARS
    [doc] = upload_ready(client, [("long-tides.txt", long)], collection_name)
    written = _stages_written(monkeypatch)
    _put_at(db, uuid.UUID(doc), "queued", "queued")
    db.execute(update(Document).where(Document.id == uuid.UUID(doc)).values(task_id=None))
    db.commit()
    assert pipeline.run(uuid.UUID(doc)).status == "ready"
    # A text file is parsed in microseconds: `parsing` is skipped even for a long one.
    assert written == ["chunking", "embedding", "writing"]
    assert _row(db, uuid.UUID(doc))[:2] == ("done", "ready")


def test_a_quick_document_deleted_during_its_run_is_reported_gone_by_the_write(
    db: Any, doc_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no stage written between fetching and the write, the write's row lock is what
    finds the document gone: nothing is written for it."""
    _put_at(db, doc_id, "queued", "queued")
    db.execute(update(Document).where(Document.id == doc_id).values(task_id=None))
    db.commit()
    real_chunk = pipeline.chunk_document

    def delete_then_chunk(*args: Any, **kwargs: Any) -> Any:
        with session_scope() as session:
            session.execute(text("DELETE FROM documents WHERE id = :id"), {"id": doc_id})
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(pipeline, "chunk_document", delete_then_chunk)
    with pytest.raises(pipeline.DocumentGone):
        pipeline.run(doc_id)
    db.rollback()
    assert db.scalar(text("SELECT count(*) FROM chunks WHERE document_id = :id"),
                     {"id": doc_id}) == 0

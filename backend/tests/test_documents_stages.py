"""The ingest stage is a typed state machine (app.documents.stages) that the database
enforces (migration 0003), and every stage has a progress value."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.documents import stages
from app.documents.models import Document, DocumentStatus
from app.documents.stages import IngestStage, InvalidTransition
from tests.conftest import upload, wait_for_documents


def _doc(stage: IngestStage) -> Document:
    return Document(id=uuid.uuid4(), stage=stage.value, status=stages.STATUS_OF[stage])


def test_the_pipeline_moves_forward_and_sets_the_status() -> None:
    doc = _doc(IngestStage.queued)
    path = [IngestStage.fetching, IngestStage.parsing, IngestStage.chunking,
            IngestStage.embedding, IngestStage.writing, IngestStage.done]
    for target in path:
        stages.advance(doc, target)
        assert doc.stage == target.value and doc.status == stages.STATUS_OF[target]
    assert doc.status == DocumentStatus.ready


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (IngestStage.queued, IngestStage.done),  # skipping the pipeline
        (IngestStage.done, IngestStage.embedding),  # a finished document does not resume
        (IngestStage.failed, IngestStage.fetching),  # a failed one is queued again first
        (IngestStage.embedding, IngestStage.parsing),  # no stage goes back (but to fetching)
        (IngestStage.writing, IngestStage.chunking),
        (IngestStage.waiting_for_queue, IngestStage.done),
    ],
)
def test_a_move_the_machine_does_not_allow_is_refused(
    start: IngestStage, target: IngestStage
) -> None:
    doc = _doc(start)
    with pytest.raises(InvalidTransition):
        stages.advance(doc, target)
    assert doc.stage == start.value


@pytest.mark.parametrize("start", [IngestStage.fetching, IngestStage.parsing])
def test_a_run_may_move_forward_past_stages_it_did_not_write(start: IngestStage) -> None:
    """A small document's run writes no stage between fetching and the write: the write
    moves it to done from where it was left."""
    doc = _doc(start)
    stages.advance(doc, IngestStage.done)
    assert (doc.stage, doc.status) == ("done", DocumentStatus.ready)


def test_every_stage_has_a_progress_and_a_status() -> None:
    assert set(stages.PROGRESS) == set(IngestStage) == set(stages.STATUS_OF)
    assert stages.progress_of("done") == 1.0
    with pytest.raises(ValueError):
        stages.progress_of("half-way")


def _insert(db: Any, status: str, stage: str) -> None:
    db.execute(
        text(
            "INSERT INTO documents (id, collection_id, filename, content_type, size_bytes, "
            "sha256, storage_key, status, stage) SELECT :id, id, 'x', 'text/plain', 1, :sha, "
            "'k', CAST(:status AS document_status), :stage FROM collections LIMIT 1"
        ),
        {"id": uuid.uuid4(), "sha": uuid.uuid4().hex, "status": status, "stage": stage},
    )


def test_the_database_refuses_an_unknown_stage(client: Any, collection_name: str, db: Any) -> None:
    doc = upload(client, [("a.txt", b"a stage test")], collection=collection_name).json()
    wait_for_documents(client, [doc["documents"][0]["id"]])
    with pytest.raises(IntegrityError):
        _insert(db, "processing", "half-way")
    db.rollback()


def test_the_database_refuses_a_status_that_disagrees_with_the_stage(
    client: Any, collection_name: str, db: Any
) -> None:
    doc = upload(client, [("b.txt", b"another stage test")], collection=collection_name).json()
    wait_for_documents(client, [doc["documents"][0]["id"]])
    with pytest.raises(IntegrityError):
        _insert(db, "ready", "embedding")
    db.rollback()
    _insert(db, "processing", "embedding")  # the agreeing pair is stored
    db.rollback()


def test_a_ready_document_reports_stage_done_and_full_progress(
    client: Any, collection_name: str
) -> None:
    resp = upload(client, [("c.txt", b"progress to the end")], collection=collection_name)
    doc = resp.json()["documents"][0]
    shown = wait_for_documents(client, [doc["id"]])[doc["id"]]
    assert (shown["status"], shown["stage"], shown["error_code"]) == ("ready", "done", None)
    task = client.get(f"/api/v1/tasks/{doc['task_id']}").json()
    assert (task["state"], task["stage"], task["progress"]) == ("SUCCESS", "done", 1.0)

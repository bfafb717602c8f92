"""The labels table's rules (app.labels.repository): a model rerun replaces only model labels,
never a person's, and a person's rejection keeps the model from bringing a label back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from app.labels import repository
from app.labels.models import Label
from app.labels.repository import ModelLabel
from tests.conftest import upload, wait_for_documents
from tests.labels_fixtures import wait_for_labels


@pytest.fixture
def document(client: Any, collection_name: str) -> tuple[Any, Any]:
    resp = upload(client, [("note.txt", b"A short note about labels.")], collection=collection_name)
    assert resp.status_code == 202, resp.text
    doc = resp.json()["documents"][0]
    wait_for_documents(client, [doc["id"]])
    wait_for_labels(client, doc["id"])  # the label worker is done with it: no race below
    from app.core.db import session_scope
    from app.documents.models import Document

    with session_scope() as session:
        row = session.get(Document, uuid.UUID(doc["id"]))
        assert row is not None
        return row.id, row.collection_id


def _replace(db: Any, doc: tuple[Any, Any], labels: list[ModelLabel]) -> int:
    written = repository.replace_model_labels(
        db, document_id=doc[0], collection_id=doc[1], kinds=["topic"], labels=labels,
        model_name="test-model", model_version="1",
    )
    db.commit()
    return written


def _values(db: Any, doc: tuple[Any, Any]) -> set[tuple[str, str, str]]:
    """The document's topic labels (the worker also gave it language and keywords)."""
    return {(r.value, r.source, r.status) for r in repository.for_document(db, doc[0])
            if r.kind == "topic"}


def test_a_rerun_replaces_the_model_labels_of_its_kinds(db: Any, document: Any) -> None:
    _replace(db, document, [ModelLabel("topic", "finance", 0.9), ModelLabel("topic", "law", 0.4)])
    assert _replace(db, document, [ModelLabel("topic", "health", 0.8)]) == 1
    assert _values(db, document) == {("health", "model", "active")}


def test_a_rerun_never_overwrites_or_duplicates_a_human_label(db: Any, document: Any) -> None:
    db.add(Label(document_id=document[0], collection_id=document[1], kind="topic",
                 value="finance", confidence=1.0, source="human"))
    db.commit()
    written = _replace(db, document, [ModelLabel("topic", "finance", 0.3),
                                      ModelLabel("topic", "law", 0.7)])
    assert written == 1
    assert _values(db, document) == {("finance", "human", "active"), ("law", "model", "active")}


def test_a_rejected_label_does_not_come_back_on_rerun(db: Any, document: Any) -> None:
    db.add(Label(document_id=document[0], collection_id=document[1], kind="topic",
                 value="law", confidence=1.0, source="human", status="rejected"))
    db.commit()
    assert _replace(db, document, [ModelLabel("topic", "law", 0.99)]) == 0
    assert _values(db, document) == {("law", "human", "rejected")}


def test_the_database_refuses_a_rejected_model_label_and_a_bad_confidence(
    db: Any, document: Any
) -> None:
    for bad in (dict(source="model", status="rejected", confidence=0.5),
                dict(source="model", status="active", confidence=1.5),
                dict(source="robot", status="active", confidence=0.5)):
        db.add(Label(document_id=document[0], collection_id=document[1], kind="topic",
                     value="x", **bad))
        with pytest.raises(IntegrityError):
            db.commit()
        db.rollback()

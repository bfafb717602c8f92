"""The `label` queue: when a document is ready the worker labels it with each labeler
(language with lingua, keywords with YAKE, topics zero-shot from the collection taxonomy),
each recording its own run; a failing labeler fails only its own run."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.conftest import upload_ready
from tests.labels_fixtures import (
    DOCS,
    FRENCH,
    GERMAN,
    MIXED,
    TAXONOMY,
    create_collection,
    of_kind,
    put_taxonomy,
    wait_for_labels,
)


@pytest.fixture(scope="module")
def labelled(client: Any) -> dict[str, Any]:
    """A collection with the three-label taxonomy, then three one-topic documents, a
    two-topic one and a German and a French one, all labelled by the worker."""
    name = f"labels-{uuid.uuid4().hex[:8]}"
    collection_id = create_collection(client, name)
    assert put_taxonomy(client, collection_id, TAXONOMY).status_code == 200
    files = [(n, body) for n, (_, body) in DOCS.items()] + [MIXED, GERMAN, FRENCH]
    start = time.perf_counter()
    ids = upload_ready(client, files, name)
    labels = {f[0]: wait_for_labels(client, i) for f, i in zip(files, ids, strict=True)}
    return {"name": name, "collection_id": collection_id, "labels": labels,
            "ids": dict(zip([f[0] for f in files], ids, strict=True)),
            "seconds": time.perf_counter() - start}


def test_each_labeler_records_its_own_run_done_with_timing(labelled: dict[str, Any]) -> None:
    for body in labelled["labels"].values():
        runs = {r["name"]: r for r in body["labelers"]}
        assert set(runs) == {"language", "keywords", "topics"}
        for run in runs.values():
            assert run["status"] == "done" and run["error"] is None, run
            assert run["ms"] is not None and run["ms"] >= 0 and run["finished_at"]


def test_three_short_documents_get_their_topic_from_the_taxonomy(
    labelled: dict[str, Any]
) -> None:
    for filename, (topic, _) in DOCS.items():
        topics = of_kind(labelled["labels"][filename], "topic")
        assert set(topics) == {topic}, (filename, topics)
        label = topics[topic]
        assert label["source"] == "model" and 0.75 <= label["confidence"] <= 1
        assert label["model_name"] and label["model_version"]


def test_a_two_topic_document_gets_both_less_certainly(labelled: dict[str, Any]) -> None:
    topics = of_kind(labelled["labels"]["mixed.txt"], "topic")
    assert set(topics) == {"finance", "health"}, topics
    assert all(t["confidence"] < 0.75 for t in topics.values()), topics


def test_language_of_english_german_and_french_texts(labelled: dict[str, Any]) -> None:
    expected = {"bank.txt": "en", "bericht.txt": "de", "rapport.txt": "fr"}
    for filename, code in expected.items():
        langs = of_kind(labelled["labels"][filename], "language")
        assert list(langs) == [code], (filename, langs)
        assert langs[code]["confidence"] > 0.5


def test_keywords_come_from_the_text(labelled: dict[str, Any]) -> None:
    keywords = of_kind(labelled["labels"]["bank.txt"], "keyword")
    assert 1 <= len(keywords) <= 8
    assert any("bank" in k or "interest" in k or "earnings" in k for k in keywords), keywords
    assert all(0 < k["confidence"] <= 1 for k in keywords.values())
    german = of_kind(labelled["labels"]["bericht.txt"], "keyword")
    assert german and not {"die", "der", "und"} & set(german)  # German stopwords left out


def test_labeling_throughput_is_reported(labelled: dict[str, Any]) -> None:
    """Cold: the worker's runs (the first loads lingua, YAKE and the embedder). Warm: the
    whole pipeline again in this process (read chunks, three labelers, write), per doc."""
    from app.labels import pipeline

    runs = [r for b in labelled["labels"].values() for r in b["labelers"]]
    cold_ms = sum(r["ms"] for r in runs) / len(labelled["labels"])
    ids = [uuid.UUID(i) for i in labelled["ids"].values()]
    pipeline.run(ids[0])  # load the models in this process
    start = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        for doc_id in ids:
            assert set(pipeline.run(doc_id).values()) == {"done"}
    per_s = rounds * len(ids) / (time.perf_counter() - start)
    print(f"\nlabeling: worker (cold) {cold_ms:.0f} ms of labelers per document; warm "
          f"pipeline {per_s:.1f} documents/s ({len(ids)} short documents x {rounds})")
    assert per_s > 1


def test_a_broken_taxonomy_fails_only_the_topic_labeler_with_a_reason(
    client: Any, collection_name: str, db: Any
) -> None:
    collection_id = create_collection(client, collection_name)
    from app.labels.models import Taxonomy

    # A taxonomy row not written through the API (which validates): labels without values.
    db.add(Taxonomy(collection_id=uuid.UUID(collection_id), version=1,
                    labels=[{"description": "no value"}]))
    db.commit()
    [doc] = upload_ready(client, [("bank.txt", DOCS["bank.txt"][1])], collection_name)
    body = wait_for_labels(client, doc)
    runs = {r["name"]: r for r in body["labelers"]}
    assert runs["topics"]["status"] == "failed"
    assert "without a value" in runs["topics"]["error"]
    assert runs["language"]["status"] == runs["keywords"]["status"] == "done"
    assert of_kind(body, "language") and of_kind(body, "keyword") and not of_kind(body, "topic")


def test_a_collection_without_taxonomy_gets_no_topics_and_no_failure(
    client: Any, collection_name: str
) -> None:
    [doc] = upload_ready(client, [("match.txt", DOCS["match.txt"][1])], collection_name)
    body = wait_for_labels(client, doc)
    assert {r["status"] for r in body["labelers"]} == {"done"}
    assert not of_kind(body, "topic")


def test_a_document_about_none_of_the_labels_gets_no_topic(
    client: Any, collection_name: str
) -> None:
    collection_id = create_collection(client, collection_name)
    assert put_taxonomy(client, collection_id, TAXONOMY).status_code == 200
    [doc] = upload_ready(client, [("garden.txt", b"I planted tomatoes and basil in the "
                                  b"garden this spring; the roses bloomed early.")],
                         collection_name)
    assert not of_kind(wait_for_labels(client, doc), "topic")


def test_a_reingest_labels_again(client: Any, collection_name: str, db: Any) -> None:
    from app.labels.models import LabelerRun

    [doc] = upload_ready(client, [("bank.txt", DOCS["bank.txt"][1])], collection_name)
    wait_for_labels(client, doc)
    first = {r.labeler: r.finished_at for r in db.query(LabelerRun).filter_by(
        document_id=uuid.UUID(doc))}
    resp = client.post(f"/api/v1/documents/{doc}/reingest")
    assert resp.status_code == 202, resp.text
    deadline = time.monotonic() + 120
    while True:
        db.expire_all()
        again = {r.labeler: r for r in db.query(LabelerRun).filter_by(document_id=uuid.UUID(doc))}
        if all(r.status == "done" and r.finished_at > first[n] for n, r in again.items()):
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)


def _runs(db: Any, doc: str) -> dict[str, Any]:
    from app.labels.models import LabelerRun

    db.expire_all()
    return {r.labeler: r for r in db.query(LabelerRun).filter_by(document_id=uuid.UUID(doc))}


def test_the_reconciler_sends_labeling_the_queue_lost(
    client: Any, collection_name: str, db: Any
) -> None:
    """Redis was down when the document became ready: its runs stayed pending. The labels
    reconciler (beat, every minute) sends them again and the worker labels the document."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from app.labels import jobs
    from app.labels.models import Label, LabelerRun

    [doc] = upload_ready(client, [("bank.txt", DOCS["bank.txt"][1])], collection_name)
    wait_for_labels(client, doc)
    doc_id = uuid.UUID(doc)
    db.execute(update(LabelerRun).where(LabelerRun.document_id == doc_id)
               .values(status="pending", ms=None, finished_at=None))
    db.query(Label).filter_by(document_id=doc_id).delete()
    db.commit()
    counts = jobs.reconcile(datetime.now(UTC) + timedelta(seconds=jobs.PENDING_GRACE_S + 5))
    assert counts["documents"] >= 1
    body = wait_for_labels(client, doc)
    assert of_kind(body, "language") == {"en": of_kind(body, "language")["en"]}
    # a re-send counts as another attempt (so a poison document runs out of them)
    assert {r.attempts for r in _runs(db, doc).values()} == {2}


def test_the_reconciler_fails_labeling_that_lost_its_worker_too_often(
    client: Any, collection_name: str, db: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from app.core.config import get_settings
    from app.labels import jobs
    from app.labels.models import LabelerRun

    [doc] = upload_ready(client, [("match.txt", DOCS["match.txt"][1])], collection_name)
    wait_for_labels(client, doc)
    attempts = get_settings().task_max_retries + 1
    db.execute(update(LabelerRun).where(LabelerRun.document_id == uuid.UUID(doc),
                                        LabelerRun.labeler == "keywords")
               .values(status="running", attempts=attempts))
    db.commit()
    late = datetime.now(UTC) + timedelta(seconds=get_settings().task_visibility_timeout_s + 120)
    assert jobs.reconcile(late)["failed"] >= 1
    runs = _runs(db, doc)
    assert runs["keywords"].status == "failed" and "worker was lost" in runs["keywords"].error
    assert runs["language"].status == runs["topics"].status == "done"


def test_labeling_a_document_that_is_gone_writes_nothing(db: Any) -> None:
    from app.labels import pipeline

    missing = uuid.uuid4()
    assert pipeline.run(missing) == {"document": "not_ready"}
    assert _runs(db, str(missing)) == {}


def test_a_text_without_words_gets_no_language_and_no_failure(
    client: Any, collection_name: str
) -> None:
    [doc] = upload_ready(client, [("numbers.txt", b"12 345 6789 0 42 1.5 + = 7 % 3")],
                         collection_name)
    body = wait_for_labels(client, doc)
    assert {r["status"] for r in body["labelers"]} == {"done"}
    assert not of_kind(body, "language") and not of_kind(body, "topic")


def test_a_failed_document_is_never_labelled_and_shows_no_pending_labelers(
    client: Any, collection_name: str
) -> None:
    from tests.conftest import upload, wait_for_documents

    resp = upload(client, [("broken.pdf", b"%PDF-1.7\nnot really a pdf at all\n")],
                  collection=collection_name)
    doc = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc])[doc]["status"] == "failed"
    assert client.get(f"/api/v1/documents/{doc}/labels").json() == {"labels": [],
                                                                    "labelers": []}

"""The labels API: human labels, the review queue, taxonomy versions and relabel jobs. A
person's decision survives every model rerun."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import assert_error, upload_ready
from tests.labels_fixtures import (
    DOCS,
    MIXED,
    TAXONOMY,
    create_collection,
    of_kind,
    put_taxonomy,
    wait_for_job,
    wait_for_labels,
)


@pytest.fixture
def mixed_doc(client: Any, collection_name: str) -> dict[str, Any]:
    """One two-topic document in a collection with the three-label taxonomy, labelled."""
    collection_id = create_collection(client, collection_name)
    assert put_taxonomy(client, collection_id, TAXONOMY).status_code == 200
    [doc] = upload_ready(client, [MIXED], collection_name)
    return {"id": doc, "collection_id": collection_id, "labels": wait_for_labels(client, doc)}


# --- human labels ----------------------------------------------------------------------------

def test_a_person_adds_and_removes_a_label(client: Any, mixed_doc: dict[str, Any]) -> None:
    doc = mixed_doc["id"]
    resp = client.post(f"/api/v1/documents/{doc}/labels",
                       json={"kind": "project", "value": "  Budget   2027 "})
    assert resp.status_code == 201, resp.text
    added = resp.json()
    assert added | {"id": 0, "created_at": ""} == {
        "id": 0, "kind": "project", "value": "Budget 2027", "confidence": 1.0,
        "source": "human", "status": "active", "model_name": None, "model_version": None,
        "chunk_id": None, "created_at": ""}
    assert "Budget 2027" in of_kind(client.get(f"/api/v1/documents/{doc}/labels").json(),
                                    "project")
    assert client.delete(f"/api/v1/documents/{doc}/labels/{added['id']}").status_code == 204
    assert not of_kind(client.get(f"/api/v1/documents/{doc}/labels").json(), "project")


def test_removing_a_model_label_keeps_a_rejection_a_rerun_respects(
    client: Any, mixed_doc: dict[str, Any]
) -> None:
    doc = mixed_doc["id"]
    health = of_kind(mixed_doc["labels"], "topic")["health"]
    assert client.delete(f"/api/v1/documents/{doc}/labels/{health['id']}").status_code == 204
    job = client.post(f"/api/v1/collections/{mixed_doc['collection_id']}/relabel").json()
    assert wait_for_job(client, job["job_id"])[-1]["status"] == "done"
    topics = [x for x in client.get(f"/api/v1/documents/{doc}/labels").json()["labels"]
              if x["kind"] == "topic" and x["value"] == "health"]
    assert [(t["source"], t["status"]) for t in topics] == [("human", "rejected")]


def test_adding_a_label_with_a_bad_kind_or_blank_value_is_422(
    client: Any, mixed_doc: dict[str, Any]
) -> None:
    url = f"/api/v1/documents/{mixed_doc['id']}/labels"
    for body in ({"kind": "Topic!", "value": "x"}, {"kind": "topic", "value": "   "},
                 {"kind": "topic"}, {"kind": "topic", "value": "x", "confidence": 1}):
        assert_error(client.post(url, json=body), 422)


def test_removing_an_unknown_label_or_one_of_another_document_is_404(
    client: Any, mixed_doc: dict[str, Any]
) -> None:
    doc = mixed_doc["id"]
    assert_error(client.delete(f"/api/v1/documents/{doc}/labels/999999999"), 404)
    label = mixed_doc["labels"]["labels"][0]["id"]
    assert_error(client.delete(f"/api/v1/documents/{uuid.uuid4()}/labels/{label}"), 404)
    assert_error(client.post("/api/v1/labels/999999999/accept"), 404)


# --- review queue ----------------------------------------------------------------------------

def test_the_review_queue_lists_an_uncertain_label_and_accept_and_reject_work(
    client: Any, mixed_doc: dict[str, Any], collection_name: str
) -> None:
    queue = client.get("/api/v1/labels/review", params={"collection": collection_name}).json()
    items = {(i["kind"], i["value"]): i for i in queue["items"]}
    assert ("topic", "finance") in items, queue  # ~0.66: inside the 0.4-0.7 band
    item = items[("topic", "finance")]
    assert 0.4 <= item["confidence"] <= 0.7 and item["source"] == "model"
    assert item["document_id"] == mixed_doc["id"] and item["filename"] == "mixed.txt"
    assert item["collection"] == collection_name and queue["total"] == len(queue["items"])

    accepted = client.post(f"/api/v1/labels/{item['id']}/accept").json()
    assert (accepted["source"], accepted["status"], accepted["confidence"]) == (
        "human", "active", 1.0)
    after = client.get("/api/v1/labels/review", params={"collection": collection_name}).json()
    assert item["id"] not in {i["id"] for i in after["items"]}

    keyword = next(iter(of_kind(mixed_doc["labels"], "keyword").values()))
    rejected = client.post(f"/api/v1/labels/{keyword['id']}/reject").json()
    assert (rejected["source"], rejected["status"]) == ("human", "rejected")
    counts = client.get("/api/v1/labels", params={"collection": collection_name}).json()
    assert {"kind": "topic", "value": "finance", "count": 1} in counts["labels"]
    assert keyword["value"] not in {c["value"] for c in counts["labels"] if c["kind"] == "keyword"}


def test_review_and_counts_of_an_unknown_collection_are_404(client: Any) -> None:
    for path in ("/api/v1/labels/review", "/api/v1/labels"):
        assert_error(client.get(path, params={"collection": f"nope-{uuid.uuid4().hex}"}), 404)


def test_review_and_counts_refuse_bad_parameters(client: Any) -> None:
    assert_error(client.get("/api/v1/labels/review", params={"limit": 0}), 422)
    assert_error(client.get("/api/v1/labels", params={"kind": "Not A Kind"}), 422)


# --- taxonomy and relabel --------------------------------------------------------------------

def test_a_relabel_replaces_the_previous_versions_labels_keeps_human_ones_and_reports_progress(
    client: Any, collection_name: str
) -> None:
    collection_id = create_collection(client, collection_name)
    assert client.get(f"/api/v1/collections/{collection_id}/taxonomy").json() == {
        "version": 0, "labels": []}
    first = put_taxonomy(client, collection_id, TAXONOMY)
    assert first.status_code == 200 and first.json()["version"] == 1
    files = [("bank.txt", DOCS["bank.txt"][1]), ("clinic.txt", DOCS["clinic.txt"][1])]
    bank, clinic = upload_ready(client, files, collection_name)
    assert set(of_kind(wait_for_labels(client, bank), "topic")) == {"finance"}
    wait_for_labels(client, clinic)
    human = client.post(f"/api/v1/documents/{bank}/labels", json={"kind": "topic",
                                                                  "value": "sports"})
    assert human.status_code == 201

    renamed = [{"value": "economy", "description": TAXONOMY[0]["description"]},
               {"value": "medicine", "description": TAXONOMY[1]["description"]}]
    second = put_taxonomy(client, collection_id, renamed).json()
    assert second == {"version": 2, "labels": renamed}
    assert client.get(f"/api/v1/collections/{collection_id}/taxonomy").json() == second
    started = client.post(f"/api/v1/collections/{collection_id}/relabel")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    seen = wait_for_job(client, started.json()["job_id"])
    assert seen[-1] | {"job_id": ""} == {"job_id": "", "status": "done", "done": 2, "total": 2,
                                         "error": None}
    assert all(s["done"] <= s["total"] or s["status"] == "queued" for s in seen)

    bank_topics = of_kind(client.get(f"/api/v1/documents/{bank}/labels").json(), "topic")
    assert set(bank_topics) == {"economy", "sports"}
    assert bank_topics["sports"]["source"] == "human"
    assert set(of_kind(client.get(f"/api/v1/documents/{clinic}/labels").json(),
                       "topic")) == {"medicine"}


@pytest.mark.parametrize("body", [
    {"labels": []},
    {"labels": [{"value": "a", "description": "x"}, {"value": "a", "description": "y"}]},
    {"labels": [{"value": "a"}]},
    {"labels": [{"value": " ", "description": "x"}]},
    {"labels": [{"value": "a", "description": "x", "colour": "red"}]},
    {"version": 3, "labels": [{"value": "a", "description": "x"}]},
])
def test_invalid_taxonomy_bodies_are_422(client: Any, collection_name: str,
                                        body: dict[str, Any]) -> None:
    collection_id = create_collection(client, collection_name)
    resp = client.put(f"/api/v1/collections/{collection_id}/taxonomy", json=body)
    assert_error(resp, 422)
    assert client.get(f"/api/v1/collections/{collection_id}/taxonomy").json()["version"] == 0


def test_relabel_without_a_taxonomy_is_409_and_unknown_ids_are_404(
    client: Any, collection_name: str
) -> None:
    collection_id = create_collection(client, collection_name)
    assert_error(client.post(f"/api/v1/collections/{collection_id}/relabel"), 409,
                 "no_taxonomy")
    assert_error(client.post(f"/api/v1/collections/{uuid.uuid4()}/relabel"), 404)
    assert_error(client.get(f"/api/v1/collections/{uuid.uuid4()}/taxonomy"), 404)
    assert_error(client.get(f"/api/v1/labels/jobs/{uuid.uuid4()}"), 404)
    assert_error(client.get("/api/v1/labels/jobs/not-a-uuid"), 422)

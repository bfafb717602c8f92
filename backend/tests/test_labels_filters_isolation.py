"""Label filters narrow search (both retrievers: inside their SQL), chat and the document
list; and two users: every labels endpoint shows and changes only what the caller may read,
and read-only sharing allows no label writes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.auth_fixtures import create_test_user
from tests.conftest import assert_error, upload_ready
from tests.labels_fixtures import (
    DOCS,
    TAXONOMY,
    create_collection,
    of_kind,
    put_taxonomy,
    wait_for_job,
    wait_for_labels,
)

QUERY = "what happened this week"


@pytest.fixture(scope="module")
def tenants(app: Any, client: Any) -> Any:
    """alice: a collection with the taxonomy and the three one-topic documents, labelled;
    bob: a user of his own (with the same collection name, empty); carol: alice shared the
    collection with her read-only."""
    from fastapi.testclient import TestClient

    users = {who: create_test_user() for who in ("alice", "bob", "carol")}
    clients = {who: TestClient(app, raise_server_exceptions=False, headers=u.headers)
               for who, u in users.items()}
    name = f"lab-{uuid.uuid4().hex[:8]}"
    a = clients["alice"]
    collection_id = create_collection(a, name)
    create_collection(clients["bob"], name)
    assert put_taxonomy(a, collection_id, TAXONOMY).status_code == 200
    ids = upload_ready(a, [(n, body) for n, (_, body) in DOCS.items()], name)
    labels = {i: wait_for_labels(a, i) for i in ids}
    share = a.post(f"/api/v1/collections/{collection_id}/shares",
                   json={"email": users["carol"].email, "permission": "read"})
    assert share.status_code == 201, share.text
    yield {"name": name, "collection_id": collection_id, "docs": dict(zip(DOCS, ids, strict=True)),
           "labels": labels, **clients}
    for c in clients.values():
        c.close()


def _search(client: Any, name: str, mode: str, filters: dict[str, Any]) -> Any:
    return client.post("/api/v1/search", json={"query": QUERY, "collection": name, "mode": mode,
                                               "k": 10, "filters": filters})


# --- filters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["vector", "lexical", "hybrid"])
def test_a_label_filter_narrows_search_results(tenants: Any, mode: str) -> None:
    a, name, docs = tenants["alice"], tenants["name"], tenants["docs"]
    query = "bank football hospital"
    base = {"query": query, "collection": name, "mode": mode, "k": 10}
    unfiltered = a.post("/api/v1/search", json=base).json()["results"]
    assert len({r["document_id"] for r in unfiltered}) == 3
    only = a.post("/api/v1/search", json={**base, "filters": {"labels": {
        "topic": ["finance"]}}}).json()["results"]
    assert {r["document_id"] for r in only} == {docs["bank.txt"]}
    two = a.post("/api/v1/search", json={**base, "filters": {"labels": {
        "topic": ["finance", "sports"], "language": ["en"]}}}).json()["results"]
    assert {r["document_id"] for r in two} == {docs["bank.txt"], docs["match.txt"]}
    none = a.post("/api/v1/search", json={**base, "filters": {"labels": {"topic": ["finance"]},
                                                              "label_min_confidence": 1.0}})
    assert none.json()["results"] == []


def test_chat_takes_the_label_filter(tenants: Any) -> None:
    body = tenants["alice"].post("/api/v1/chat", json={
        "message": "What did the bank, the doctors and the team do?",
        "collection": tenants["name"], "filters": {"labels": {"topic": ["health"]}}}).json()
    assert {s["document_id"] for s in body["sources"]} <= {tenants["docs"]["clinic.txt"]}
    assert body["sources"]


def test_the_document_list_filters_by_label(tenants: Any) -> None:
    a, name, docs = tenants["alice"], tenants["name"], tenants["docs"]
    listed = a.get("/api/v1/documents", params={"collection": name,
                                                "label": ["topic:sports", "topic:health"]})
    assert {d["id"] for d in listed.json()["items"]} == {docs["match.txt"], docs["clinic.txt"]}
    both = a.get("/api/v1/documents", params={"collection": name,
                                              "label": ["topic:sports", "language:de"]})
    assert both.json()["items"] == []


def test_bad_label_filters_are_422(tenants: Any) -> None:
    a, name = tenants["alice"], tenants["name"]
    for filters in ({"labels": {"Bad Kind": ["x"]}}, {"labels": {"topic": []}},
                    {"labels": ["finance"]}, {"label_min_confidence": 1.5}):
        assert_error(_search(a, name, "hybrid", filters), 422)
    for param in ("topic", "topic:", ":finance", "Bad Kind:x"):
        assert_error(a.get("/api/v1/documents", params={"label": param}), 422)


# --- isolation -------------------------------------------------------------------------------

def test_another_user_cannot_see_or_change_a_documents_labels(tenants: Any) -> None:
    bob, doc = tenants["bob"], tenants["docs"]["bank.txt"]
    label = tenants["labels"][doc]["labels"][0]["id"]
    assert_error(bob.get(f"/api/v1/documents/{doc}/labels"), 404)
    assert_error(bob.post(f"/api/v1/documents/{doc}/labels", json={"kind": "topic",
                                                                   "value": "x"}), 404)
    assert_error(bob.delete(f"/api/v1/documents/{doc}/labels/{label}"), 404)
    for action in ("accept", "reject"):
        assert_error(bob.post(f"/api/v1/labels/{label}/{action}"), 404)
    still = tenants["alice"].get(f"/api/v1/documents/{doc}/labels").json()
    assert still["labels"] == tenants["labels"][doc]["labels"]


def test_another_user_sees_no_counts_review_items_or_filtered_hits(tenants: Any) -> None:
    bob, name = tenants["bob"], tenants["name"]
    assert bob.get("/api/v1/labels", params={"collection": name}).json() == {"labels": []}
    assert bob.get("/api/v1/labels").json() == {"labels": []}  # bob has no documents
    review = bob.get("/api/v1/labels/review").json()
    assert not {i["document_id"] for i in review["items"]} & set(tenants["docs"].values())
    hits = _search(bob, name, "hybrid", {"labels": {"topic": ["finance"]}}).json()["results"]
    assert hits == []
    listed = bob.get("/api/v1/documents", params={"label": "topic:finance"}).json()["items"]
    assert not {d["id"] for d in listed} & set(tenants["docs"].values())


def test_another_user_cannot_read_or_change_the_taxonomy_or_relabel(tenants: Any) -> None:
    bob, cid = tenants["bob"], tenants["collection_id"]
    assert_error(bob.get(f"/api/v1/collections/{cid}/taxonomy"), 404)
    assert_error(bob.put(f"/api/v1/collections/{cid}/taxonomy",
                         json={"labels": [{"value": "x", "description": "y"}]}), 404)
    assert_error(bob.post(f"/api/v1/collections/{cid}/relabel"), 404)
    job = tenants["alice"].post(f"/api/v1/collections/{cid}/relabel").json()["job_id"]
    assert_error(bob.get(f"/api/v1/labels/jobs/{job}"), 404)
    assert wait_for_job(tenants["alice"], job)[-1]["status"] == "done"
    assert tenants["alice"].get(f"/api/v1/collections/{cid}/taxonomy").json()["version"] == 1


def test_a_read_only_sharee_reads_labels_but_cannot_write_them(tenants: Any) -> None:
    carol, cid = tenants["carol"], tenants["collection_id"]
    doc = tenants["docs"]["clinic.txt"]
    body = carol.get(f"/api/v1/documents/{doc}/labels").json()
    assert "health" in of_kind(body, "topic")
    label = of_kind(body, "topic")["health"]["id"]
    assert carol.get(f"/api/v1/collections/{cid}/taxonomy").json()["version"] >= 1
    assert_error(carol.post(f"/api/v1/documents/{doc}/labels",
                            json={"kind": "topic", "value": "x"}), 403)
    assert_error(carol.delete(f"/api/v1/documents/{doc}/labels/{label}"), 403)
    assert_error(carol.post(f"/api/v1/labels/{label}/accept"), 403)
    assert_error(carol.post(f"/api/v1/labels/{label}/reject"), 403)
    assert_error(carol.put(f"/api/v1/collections/{cid}/taxonomy",
                           json={"labels": [{"value": "x", "description": "y"}]}), 403)
    assert_error(carol.post(f"/api/v1/collections/{cid}/relabel"), 403)
    assert of_kind(tenants["alice"].get(f"/api/v1/documents/{doc}/labels").json(),
                   "topic")["health"]["source"] == "model"

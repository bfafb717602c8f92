"""The thinnest end-to-end path: upload a text file, it becomes ready, search finds it."""

from __future__ import annotations

from typing import Any

from tests.conftest import upload, wait_for_documents


def test_uploaded_text_becomes_ready_and_is_found_by_search(
    client: Any, collection_name: str
) -> None:
    resp = upload(
        client,
        [("cells.txt", b"The mitochondria is the powerhouse of the cell. It makes ATP.")],
        collection=collection_name,
    )
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    docs = wait_for_documents(client, [doc_id])
    assert docs[doc_id]["status"] == "ready", docs[doc_id]
    hits = client.post(
        "/api/v1/search",
        json={"query": "what produces ATP in cells", "collection": collection_name},
    ).json()["results"]
    assert hits and hits[0]["document_id"] == doc_id


def test_search_in_unknown_collection_is_404(client: Any) -> None:
    resp = client.post("/api/v1/search", json={"query": "x", "collection": "no-such-collection"})
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_empty_query_is_rejected_with_json_error(client: Any) -> None:
    resp = client.post("/api/v1/search", json={"query": ""})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "validation_error"

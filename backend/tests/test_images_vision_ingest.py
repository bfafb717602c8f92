"""The ingest looks at every image: what it shows becomes a searchable description chunk, its
object and safety labels and its image vector are stored, and the `vision` labeler run says
how it went. A document that is not an image, or no longer has a readable original, keeps
nothing of the kind."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import search, upload_ready, wait_for_documents
from tests.image_fixtures import photo, png_bytes


def test_a_photo_is_found_by_what_it_shows_with_labels_and_a_vision_run(
    client: Any, collection_name: str
) -> None:
    # Neither file name says what the picture is: only the models can.
    pet, cup = upload_ready(client, [("IMG_0001.png", png_bytes(photo("chelsea"))),
                                     ("IMG_0002.png", png_bytes(photo("coffee")))],
                            collection_name, timeout=240)  # fmt: skip
    hits = search(client, "cat", collection_name, k=5)
    assert hits and hits[0]["document_id"] == pet, hits
    chunks = client.get(f"/api/v1/documents/{pet}/chunks").json()["items"]
    described = [c for c in chunks if c["source"] == "image_description"]
    assert len(described) == 1 and "It shows:" in described[0]["text"]

    body = client.get(f"/api/v1/documents/{pet}/labels").json()
    objects = [lab["value"] for lab in body["labels"] if lab["kind"] == "object"]
    assert any("cat" in value for value in objects), objects
    safety = [lab for lab in body["labels"] if lab["kind"] == "safety"]
    assert len(safety) == 1 and safety[0]["confidence"] < 0.2
    runs = {run["name"]: run for run in body["labelers"]}
    assert runs["vision"]["status"] == "done" and runs["vision"]["ms"] > 0

    espresso = search(client, "espresso", collection_name, k=5)
    assert espresso and espresso[0]["document_id"] == cup


def test_a_text_document_gets_no_image_analysis_and_no_vision_run(
    client: Any, collection_name: str
) -> None:
    (doc,) = upload_ready(client, [("words.txt", b"Only words about a cat here.")],
                          collection_name, timeout=240)  # fmt: skip
    assert client.get(f"/api/v1/documents/{doc}/image-analysis").status_code == 404
    labelers = client.get(f"/api/v1/documents/{doc}/labels").json()["labelers"]
    assert "vision" not in {run["name"] for run in labelers}
    chunks = client.get(f"/api/v1/documents/{doc}/chunks").json()["items"]
    assert {c["source"] for c in chunks} == {"text"}


def test_an_image_whose_reingest_fails_keeps_no_analysis_labels_or_similar_hits(
    client: Any, collection_name: str
) -> None:
    from app.core.db import session_scope
    from app.documents.models import Document
    from app.storage import get_store

    pet, copy = upload_ready(client, [("a.png", png_bytes(photo("chelsea"))),
                                      ("b.png", png_bytes(photo("chelsea").resize((300, 200))))],
                             collection_name, timeout=240)  # fmt: skip
    assert client.get(f"/api/v1/documents/{pet}/image-analysis").status_code == 200
    with session_scope() as session:
        doc = session.get(Document, uuid.UUID(pet))
        assert doc is not None
        get_store().delete(doc.storage_key)  # the original vanishes from storage
    resp = client.post(f"/api/v1/documents/{pet}/reingest")
    assert resp.status_code in (200, 202), resp.text
    final = wait_for_documents(client, [pet], timeout=120)[pet]
    assert final["status"] == "failed" and final["error_code"] == "original_missing"

    assert client.get(f"/api/v1/documents/{pet}/image-analysis").status_code == 404
    labels = client.get(f"/api/v1/documents/{pet}/labels").json()["labels"]
    assert not [lab for lab in labels if lab["kind"] in ("object", "safety")]
    dups = client.get(f"/api/v1/documents/{copy}/near-duplicates").json()["near_duplicates"]
    assert pet not in {d["document_id"] for d in dups}
    similar = client.post("/api/v1/search/images", json={"document_id": copy, "k": 10})
    assert pet not in {h["document_id"] for h in similar.json()["results"]}


def test_the_text_labelers_read_the_words_of_an_image_not_its_description(
    client: Any, collection_name: str
) -> None:
    """Keywords and language come from the file's own words (OCR); the description chunk
    ("Image: ... It shows: ...") is Cairn's sentence, not the document's."""
    import time

    (pet,) = upload_ready(client, [("IMG_0003.png", png_bytes(photo("chelsea")))],
                          collection_name, timeout=240)  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        body = client.get(f"/api/v1/documents/{pet}/labels").json()
        runs = {run["name"]: run["status"] for run in body["labelers"]}
        if runs.get("keywords") in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert runs.get("keywords") == "done", runs
    keywords = {lab["value"].lower() for lab in body["labels"] if lab["kind"] == "keyword"}
    assert not keywords & {"image", "img_0003.png", "shows", "tiger cat"}, keywords

"""Similar images, near-duplicates and image analysis over HTTP, with real models.

Each picture is a real photograph uploaded as a PNG: the ingest reads it (OCR, the vision
models) and stores its analysis, as it would for a user."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.conftest import assert_error, upload, wait_for_documents
from tests.image_fixtures import CAT_CLASSES, cropped, photo, png_bytes, reencoded

PICTURES = {
    "cat.png": lambda: photo("chelsea"),
    "cat-crop.png": lambda: cropped(photo("chelsea")),
    "cat-small.png": lambda: reencoded(photo("chelsea")),
    "coffee.png": lambda: photo("coffee"),
}


def _new_client(app: Any) -> Any:
    from fastapi.testclient import TestClient

    from tests.auth_fixtures import create_test_user

    user = create_test_user("member")
    return TestClient(app, raise_server_exceptions=False, headers=user.headers)


def _attach(doc_id: str, image: Image.Image, filename: str) -> None:
    from app.core.db import get_sessionmaker
    from app.images import service
    from app.images.analysis import analyze

    with get_sessionmaker()() as session:
        service.attach_analysis(session, document_id=uuid.UUID(doc_id),
                                analysis=analyze(image, filename=filename))


def _library(client: Any, pictures: dict[str, Any], plain: bool) -> tuple[str, dict[str, str]]:
    collection = f"img-{uuid.uuid4().hex[:8]}"
    files = [(name, png_bytes(make())) for name, make in pictures.items()]
    if plain:
        files.append(("plain.txt", b"Just words, no picture at all."))
    resp = upload(client, files, collection=collection)
    assert resp.status_code == 202, resp.text
    ids = {d["filename"]: d["id"] for d in resp.json()["documents"]}
    final = wait_for_documents(client, list(ids.values()), timeout=240)
    assert all(d["status"] == "ready" for d in final.values()), final
    return collection, ids


@pytest.fixture(scope="module")
def owner(app: Any, client: Any) -> Iterator[tuple[Any, str, dict[str, str]]]:
    with _new_client(app) as owner_client:
        collection, ids = _library(owner_client, PICTURES, plain=True)
        yield owner_client, collection, ids


@pytest.fixture(scope="module")
def other(app: Any, client: Any) -> Iterator[tuple[Any, str, dict[str, str]]]:
    """A second user who owns an identical copy of the cat."""
    with _new_client(app) as other_client:
        collection, ids = _library(other_client, {"cat.png": PICTURES["cat.png"]}, plain=False)
        yield other_client, collection, ids


def _search(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/search/images", json=body)


def _upload_search(client: Any, data: bytes, **fields: Any) -> Any:
    return client.post("/api/v1/search/images", files={"file": ("q.png", data, "image/png")},
                       data={k: str(v) for k, v in fields.items()})


# --- happy paths ---------------------------------------------------------------------------


def test_similar_images_rank_the_cropped_cat_first_and_the_coffee_cup_below(owner: Any) -> None:
    client, collection, ids = owner
    resp = _search(client, document_id=ids["cat.png"], k=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    order = [h["document_id"] for h in body["results"]]
    assert order == [ids["cat-crop.png"], ids["cat-small.png"], ids["coffee.png"]]
    scores = [h["score"] for h in body["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.9 > scores[-1]
    hit = body["results"][0]
    assert hit["filename"] == "cat-crop.png" and hit["collection"] == collection
    assert {"chunk_id", "text", "page", "ordinal", "retrievers", "metadata"} <= set(hit)
    assert hit["retrievers"]["image"]["rank"] == 1
    assert body["total_candidates"] == 3 and body["model"] == "efficientnet-lite0"


def test_the_hnsw_path_ranks_like_the_exact_scan(owner: Any, monkeypatch: Any) -> None:
    from app.core.config import get_settings

    client, _, ids = owner
    exact = _search(client, document_id=ids["cat.png"], k=3).json()["results"]
    monkeypatch.setattr(get_settings(), "exact_search_max_chunks", 0)  # always the index
    hnsw = _search(client, document_id=ids["cat.png"], k=3).json()["results"]
    assert [h["document_id"] for h in hnsw] == [h["document_id"] for h in exact]
    assert [round(h["score"], 4) for h in hnsw] == [round(h["score"], 4) for h in exact]


def test_an_uploaded_photo_finds_the_cat_pictures_before_the_cup(owner: Any) -> None:
    client, collection, ids = owner
    resp = _upload_search(client, png_bytes(photo("chelsea")), k=4, collection=collection)
    assert resp.status_code == 200, resp.text
    order = [h["document_id"] for h in resp.json()["results"]]
    assert order[0] == ids["cat.png"] and order[-1] == ids["coffee.png"] and len(order) == 4


def test_near_duplicates_list_the_reencoded_copy_and_not_the_cup(owner: Any) -> None:
    client, _, ids = owner
    resp = client.get(f"/api/v1/documents/{ids['cat.png']}/near-duplicates")
    assert resp.status_code == 200, resp.text
    found = {d["document_id"]: d for d in resp.json()["near_duplicates"]}
    assert ids["cat-small.png"] in found and ids["coffee.png"] not in found
    assert ids["cat.png"] not in found
    assert found[ids["cat-small.png"]]["distance"] <= 8
    assert found[ids["cat-small.png"]]["filename"] == "cat-small.png"


def test_image_analysis_shows_objects_safety_hash_and_description(owner: Any, db: Any) -> None:
    from sqlalchemy import select

    from app.labels.models import Label

    client, _, ids = owner
    resp = client.get(f"/api/v1/documents/{ids['cat.png']}/image-analysis")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {o["value"] for o in body["objects"][:3]} & CAT_CLASSES, body
    assert body["nsfw"] < 0.2 and len(body["phash"]) == 16 and body["model"] == "efficientnet-lite0"
    assert "cat.png" in body["description"] and "It shows:" in body["description"]
    labels = db.execute(select(Label.kind, Label.value, Label.confidence).where(
        Label.document_id == uuid.UUID(ids["cat.png"]))).all()
    assert {v for k, v, _ in labels if k == "object"} == {o["value"] for o in body["objects"]}
    assert [(v, round(c, 4)) for k, v, c in labels if k == "safety"] == [("nsfw", body["nsfw"])]


def test_analysing_again_replaces_the_row_and_labels_without_duplicates(
    owner: Any, db: Any
) -> None:
    from sqlalchemy import func, select

    from app.images.models import ImageVector
    from app.labels.models import Label

    _, _, ids = owner
    doc = uuid.UUID(ids["coffee.png"])
    before = db.scalar(select(func.count()).select_from(Label).where(Label.document_id == doc))
    _attach(ids["coffee.png"], photo("coffee"), "coffee.png")
    after = db.scalar(select(func.count()).select_from(Label).where(Label.document_id == doc))
    rows = db.scalar(select(func.count()).select_from(ImageVector)
                     .where(ImageVector.document_id == doc))
    assert before == after > 0 and rows == 1


# --- unhappy paths -------------------------------------------------------------------------


def test_an_unknown_document_is_404_on_every_image_endpoint(owner: Any) -> None:
    client, _, _ = owner
    missing = str(uuid.uuid4())
    assert_error(_search(client, document_id=missing), 404, "not_found")
    assert_error(client.get(f"/api/v1/documents/{missing}/image-analysis"), 404, "not_found")
    assert_error(client.get(f"/api/v1/documents/{missing}/near-duplicates"), 404, "not_found")
    assert_error(client.get("/api/v1/documents/not-a-uuid/image-analysis"), 422)


def test_a_document_that_is_not_an_image_is_404_not_an_image(owner: Any) -> None:
    client, _, ids = owner
    plain = ids["plain.txt"]
    assert_error(_search(client, document_id=plain), 404, "not_an_image")
    assert_error(client.get(f"/api/v1/documents/{plain}/image-analysis"), 404, "not_an_image")
    assert_error(client.get(f"/api/v1/documents/{plain}/near-duplicates"), 404, "not_an_image")


def test_k_out_of_range_is_422(owner: Any) -> None:
    client, _, ids = owner
    for k in (0, -1, 10_000, "many"):
        assert_error(_search(client, document_id=ids["cat.png"], k=k), 422, "validation_error")


def test_exactly_one_of_document_id_and_query_is_required(owner: Any) -> None:
    client, _, ids = owner
    assert_error(_search(client), 422, "validation_error")
    assert_error(_search(client, document_id=ids["cat.png"], query="a cat"), 422)
    assert_error(_search(client, query="   "), 422, "validation_error")


def test_unknown_fields_and_unknown_collections_are_refused(owner: Any) -> None:
    client, _, ids = owner
    assert_error(_search(client, document_id=ids["cat.png"], colour="red"), 422)
    assert_error(_search(client, document_id=ids["cat.png"], collection="no-such-one"), 404)


def test_a_text_query_without_a_clip_model_is_422_text_search_unavailable(owner: Any) -> None:
    client, _, _ = owner
    assert_error(_search(client, query="a tabby cat"), 422, "text_search_unavailable")


def test_a_body_that_is_neither_json_nor_multipart_is_refused(owner: Any) -> None:
    client, _, _ = owner
    assert_error(client.post("/api/v1/search/images", content=b"{nope",
                             headers={"Content-Type": "application/json"}), 422)
    assert_error(client.post("/api/v1/search/images", content=b"cat",
                             headers={"Content-Type": "text/plain"}), 415)


def test_an_upload_that_is_not_an_image_is_415(owner: Any) -> None:
    client, _, _ = owner
    assert_error(_upload_search(client, b"%PDF-1.4 not an image"), 415, "not_an_image")


def test_an_empty_or_truncated_upload_is_422(owner: Any) -> None:
    client, _, _ = owner
    assert_error(_upload_search(client, b""), 422)
    assert_error(_upload_search(client, png_bytes(photo("coffee"))[:300]), 422, "corrupt_image")


def test_an_upload_with_too_many_pixels_or_bytes_is_413(owner: Any, monkeypatch: Any) -> None:
    from app.core.config import get_settings

    client, _, _ = owner
    huge = png_bytes(Image.new("1", (8000, 7000)))  # 56 Mpx, a few kB of PNG
    assert_error(_upload_search(client, huge), 413, "image_too_large")
    monkeypatch.setattr(get_settings(), "image_query_max_bytes", 2048)
    assert_error(_upload_search(client, png_bytes(photo("coffee"))), 413, "payload_too_large")


def test_a_multipart_search_without_a_file_or_with_bad_fields_is_422(owner: Any) -> None:
    client, _, _ = owner
    assert_error(_upload_search(client, png_bytes(photo("coffee")), k=0), 422)
    assert_error(_upload_search(client, png_bytes(photo("coffee")), colour="red"), 422)
    assert_error(client.post("/api/v1/search/images", data={"k": "3"},
                             files={"other": ("x.txt", b"x", "text/plain")}), 422)


def test_image_endpoints_need_credentials(anon: Any, owner: Any) -> None:
    _, _, ids = owner
    assert_error(anon.post("/api/v1/search/images", json={"document_id": ids["cat.png"]}), 401)
    assert_error(anon.get(f"/api/v1/documents/{ids['cat.png']}/image-analysis"), 401)


# --- isolation -----------------------------------------------------------------------------


def test_another_users_images_are_404_to_you(owner: Any, other: Any) -> None:
    _, owner_collection, ids = owner
    client, _, _ = other
    cat = ids["cat.png"]
    assert_error(_search(client, document_id=cat), 404, "not_found")
    assert_error(client.get(f"/api/v1/documents/{cat}/image-analysis"), 404, "not_found")
    assert_error(client.get(f"/api/v1/documents/{cat}/near-duplicates"), 404, "not_found")
    assert_error(_search(client, document_id=cat, collection=owner_collection), 404)


def test_your_image_search_and_near_duplicates_never_show_another_users_images(
    owner: Any, other: Any
) -> None:
    client, _, their = other
    owner_ids = set(owner[2].values())
    found = _upload_search(client, png_bytes(photo("chelsea")), k=50)
    assert found.status_code == 200, found.text
    assert [h["document_id"] for h in found.json()["results"]] == [their["cat.png"]]
    dups = client.get(f"/api/v1/documents/{their['cat.png']}/near-duplicates")
    assert dups.status_code == 200 and dups.json()["near_duplicates"] == []
    similar = _search(client, document_id=their["cat.png"], k=50)
    assert similar.status_code == 200 and not owner_ids & {
        h["document_id"] for h in similar.json()["results"]}


def test_deleting_an_image_document_removes_its_vector_and_labels(
    app: Any, client: Any, db: Any
) -> None:
    from sqlalchemy import func, select

    from app.images.models import ImageVector
    from app.labels.models import Label

    with _new_client(app) as user:
        _, ids = _library(user, {"gone.png": PICTURES["coffee.png"]}, plain=False)
        doc = uuid.UUID(ids["gone.png"])
        assert db.scalar(select(func.count()).select_from(ImageVector)
                         .where(ImageVector.document_id == doc)) == 1
        assert user.delete(f"/api/v1/documents/{doc}").status_code == 204
        db.rollback()  # a fresh snapshot
        assert db.scalar(select(func.count()).select_from(ImageVector)
                         .where(ImageVector.document_id == doc)) == 0
        assert db.scalar(select(func.count()).select_from(Label)
                         .where(Label.document_id == doc)) == 0
        assert_error(user.get(f"/api/v1/documents/{doc}/image-analysis"), 404, "not_found")

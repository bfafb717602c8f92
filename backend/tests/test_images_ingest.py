"""Images as documents, end to end through the real API, worker, Pillow and RapidOCR: the
text in a picture and on a scanned page is found by search, EXIF is read back (GPS only when
asked for), thumbnails are served for images and PDFs; bombs, corrupt and unsupported images
are refused cleanly, and another user reads none of it."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from app.ingest.images import ImageTooLarge
from app.ingest.parsers import parse
from app.storage import content_key
from tests import ocr_fixtures as fx
from tests.conftest import assert_error, s3_keys, search, upload, wait_for_documents

RECEIPT = ["Receipt zebracorn", "Total lighthouse 42"]
MIXED_TEXT = "Born digital preface about quokka migration."


@pytest.fixture(scope="module")
def docs(client: Any) -> dict[str, Any]:
    collection = f"t-images-{uuid.uuid4().hex[:8]}"
    png = fx.text_image(["x"])
    files = {
        "receipt.jpg": fx.exif_jpeg(RECEIPT),
        "page.png": fx.page_png(),
        "scan.pdf": fx.page_pdf_image_only(),
        "mixed.pdf": fx.mixed_pdf(MIXED_TEXT),
        "blank.gif": fx.two_frame_gif([]),
        "truncated.png": png[: len(png) * 2 // 3],
        "notes.txt": b"Plain notes about the harbour have no thumbnail.",
    }
    resp = upload(client, list(files.items()), collection=collection)
    assert resp.status_code == 202, resp.text
    ids = {d["filename"]: d["id"] for d in resp.json()["documents"]}
    final = wait_for_documents(client, list(ids.values()), timeout=300)
    return {"collection": collection, "ids": ids, "doc": {n: final[i] for n, i in ids.items()}}


def _chunks(client: Any, doc_id: str) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/documents/{doc_id}/chunks")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def test_text_in_an_image_is_found_by_search_with_its_boxes(client: Any, docs: Any) -> None:
    doc = docs["doc"]["receipt.jpg"]
    assert doc["status"] == "ready", doc
    hits = search(client, "zebracorn", docs["collection"])
    assert hits and hits[0]["document_id"] == doc["id"]
    chunks = _chunks(client, doc["id"])
    assert [c["source"] for c in chunks] == ["ocr", "image_description"]
    assert chunks[1]["boxes"] is None and "zebracorn" in chunks[1]["text"].lower()
    texts = [b["text"] for b in chunks[0]["boxes"]]
    assert any("zebracorn" in t.lower() for t in texts), texts
    assert all(len(b["box"]) == 4 and 0 < b["score"] <= 1 for b in chunks[0]["boxes"])
    assert doc["image"]["ocr"]["lines"] == 2 and doc["image"]["ocr"]["engine"]
    assert doc["timings"]["ocr_ms"] > 0 and "thumbnail_ms" in doc["timings"]


def test_a_scanned_page_as_png_and_as_image_only_pdf_is_found_by_its_words(
    client: Any, docs: Any
) -> None:
    ids = docs["ids"]
    found = {h["document_id"] for h in search(client, "markers of the coins", docs["collection"])}
    assert {ids["page.png"], ids["scan.pdf"]} <= found
    scan = docs["doc"]["scan.pdf"]
    assert scan["status"] == "ready" and scan["image"] is None
    assert [(p["page"], p["source"]) for p in scan["pages"]] == [(1, "ocr")]
    assert {c["page"] for c in _chunks(client, ids["scan.pdf"])} == {1}
    assert scan["timings"]["ocr_pages"] == 1


def test_a_pdf_reports_per_page_which_path_read_it_and_keeps_page_numbers(
    client: Any, docs: Any
) -> None:
    mixed = docs["doc"]["mixed.pdf"]
    assert mixed["status"] == "ready", mixed
    assert [(p["page"], p["source"]) for p in mixed["pages"]] == [(1, "text_layer"), (2, "ocr")]
    chunks = _chunks(client, mixed["id"])
    by_page = {c["page"]: c for c in chunks}
    assert "quokka" in by_page[1]["text"] and by_page[1]["source"] == "text"
    assert by_page[1]["boxes"] is None
    assert "coins" in by_page[2]["text"] and by_page[2]["source"] == "ocr"


def test_exif_is_read_back_and_gps_only_with_the_flag(client: Any, docs: Any) -> None:
    doc_id = docs["ids"]["receipt.jpg"]
    image = client.get(f"/api/v1/documents/{doc_id}").json()["image"]
    assert (image["width"], image["height"], image["format"]) == (520, 130, "JPEG")
    assert image["exif"]["camera"] == "Canon EOS 5D"
    assert image["exif"]["taken_at"] == "2024-05-06T07:08:09"
    assert image["gps"] is None
    listed = client.get("/api/v1/documents", params={"collection": docs["collection"]}).json()
    assert all(d["image"] is None or d["image"]["gps"] is None for d in listed["items"])
    shown = client.get(f"/api/v1/documents/{doc_id}", params={"include_gps": "true"}).json()
    assert shown["image"]["gps"] == {"lat": 52.5, "lon": -1.25}


def test_thumbnails_are_webp_for_an_image_and_a_pdf_with_an_etag(
    client: Any, docs: Any
) -> None:
    for name in ("receipt.jpg", "scan.pdf"):
        assert docs["doc"][name]["has_thumbnail"] is True
        resp = client.get(f"/api/v1/documents/{docs['ids'][name]}/thumbnail")
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "image/webp"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["cache-control"].startswith("private")
        thumb = Image.open(io.BytesIO(resp.content))
        assert thumb.format == "WEBP" and max(thumb.size) <= 256
        again = client.get(f"/api/v1/documents/{docs['ids'][name]}/thumbnail",
                           headers={"If-None-Match": resp.headers["etag"]})
        assert again.status_code == 304 and not again.content


def test_an_image_without_text_is_ready_with_only_its_description_first_frame_only(
    client: Any, docs: Any
) -> None:
    gif = docs["doc"]["blank.gif"]
    assert gif["status"] == "ready" and gif["chunk_count"] == 1, gif
    assert gif["image"]["frames"] == 2 and gif["image"]["ocr"]["lines"] == 0
    chunks = _chunks(client, gif["id"])
    assert [c["source"] for c in chunks] == ["image_description"]
    hits = search(client, "blank.gif", docs["collection"])  # found by its description
    assert hits and hits[0]["document_id"] == gif["id"]


# --- unhappy paths -----------------------------------------------------------------------


def test_a_truncated_image_fails_with_a_plain_reason(docs: Any) -> None:
    doc = docs["doc"]["truncated.png"]
    assert doc["status"] == "failed" and doc["error_code"] == "parse_failed", doc
    assert "truncated" in doc["error"]


def test_a_decompression_bomb_is_refused_at_upload(client: Any, collection_name: str) -> None:
    resp = upload(client, [("bomb.png", fx.png_declaring(60_000, 60_000))],
                  collection=collection_name)
    assert_error(resp, 422, "image_too_large")


def test_a_bomb_that_reaches_the_worker_fails_as_image_too_large() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        parse(fx.png_declaring(60_000, 60_000), "image/png")
    assert caught.value.code == "image_too_large" and "pixels" in str(caught.value)


def test_an_image_pillow_cannot_identify_is_refused(client: Any, collection_name: str) -> None:
    fake = b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50
    assert_error(upload(client, [("fake.png", fake)], collection=collection_name), 422,
                 "corrupt_image")


def test_an_unsupported_image_type_is_415(client: Any, collection_name: str) -> None:
    resp = upload(client, [("icon.ico", fx.icon())], collection=collection_name)
    assert_error(resp, 415)


def test_a_text_document_has_no_thumbnail_and_no_image(client: Any, docs: Any) -> None:
    doc = docs["doc"]["notes.txt"]
    assert doc["image"] is None and doc["pages"] is None and doc["has_thumbnail"] is False
    resp = client.get(f"/api/v1/documents/{doc['id']}/thumbnail")
    assert_error(resp, 404, "no_thumbnail")
    assert_error(client.get(f"/api/v1/documents/{uuid.uuid4()}/thumbnail"), 404, "not_found")


def test_another_user_cannot_read_the_thumbnail_or_image_facts(
    docs: Any, make_user: Any
) -> None:
    _, other = make_user()
    doc_id = docs["ids"]["receipt.jpg"]
    for path in ("/thumbnail", "?include_gps=true", "/chunks"):
        assert_error(other.get(f"/api/v1/documents/{doc_id}{path}"), 404, "not_found")
    assert not other.post("/api/v1/search", json={"query": "zebracorn"}).json()["results"]


# --- storage ---------------------------------------------------------------------------


def test_the_thumbnail_survives_the_sweep_and_goes_with_its_document(
    client: Any, s3: Any, collection_name: str
) -> None:
    from app.documents.tasks import sweep_orphan_objects

    resp = upload(client, [("dot.bmp", fx.text_image([], "BMP", size=(48, 48)))],
                  collection=collection_name)
    doc_id = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc_id])[doc_id]["status"] == "ready"
    thumb = client.get(f"/api/v1/documents/{doc_id}/thumbnail").content
    key = content_key(hashlib.sha256(thumb).hexdigest())
    assert key in s3_keys(s3)
    sweep_orphan_objects(now=datetime.now(UTC) + timedelta(days=2))
    assert key in s3_keys(s3)
    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 204
    assert key not in s3_keys(s3)


def test_a_failed_reingest_keeps_no_image_facts_or_thumbnail(
    client: Any, s3: Any, collection_name: str
) -> None:
    data = fx.text_image([], "PNG", size=(40, 40))
    resp = upload(client, [("square.png", data)], collection=collection_name)
    doc_id = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc_id])[doc_id]["has_thumbnail"] is True
    s3.delete_object(Bucket="cairn-test", Key=content_key(hashlib.sha256(data).hexdigest()))
    assert client.post(f"/api/v1/documents/{doc_id}/reingest").status_code == 202
    doc = wait_for_documents(client, [doc_id])[doc_id]
    assert doc["error_code"] == "original_missing", doc
    assert doc["image"] is None and doc["has_thumbnail"] is False
    assert_error(client.get(f"/api/v1/documents/{doc_id}/thumbnail"), 404, "no_thumbnail")

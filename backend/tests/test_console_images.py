"""The console's Documents tab shows a picture as the API knows it: the thumbnail, the text
OCR read off it, what the models saw (objects, the safety score) and every label with its
source; a text document shows no picture, and another user's document shows only an error."""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from tests.test_console import ID, h, load_console_app, wait_ready, write

# The console's modules are on sys.path once tests.test_console is imported.
images = importlib.import_module("console_images")


def _receipt() -> bytes:
    """A small receipt: dark words on white, large enough for OCR."""
    img = Image.new("RGB", (520, 200), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=36)
    draw.text((20, 30), "ZEBRACORN CAFE", fill="black", font=font)
    draw.text((20, 110), "TOTAL 12.50", fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _upload(api_url: str, key: Any, tmp_path: Path, collection: str, name: str,
            content: bytes) -> str:
    rows, msg = h.upload_files(api_url, key, [write(tmp_path, name, content)], collection,
                               "", False)
    assert rows, msg
    ready = wait_ready(api_url, key, collection, 1, timeout=240)
    return str(ready[0][ID])


def test_a_receipt_shows_its_thumbnail_ocr_text_labels_and_safety_score(
    api_url: str, api_key: str, collection_name: str, tmp_path: Path
) -> None:
    key = api_key
    doc_id = _upload(api_url, key, tmp_path, collection_name, "receipt.png", _receipt())
    details, chunks, msg, thumb, labels, summary = load_console_app()._open_document(
        api_url, key, doc_id)
    assert details is not None and "ready" in msg
    assert thumb is not None and Image.open(thumb).format == "WEBP"
    assert "Text read by OCR:" in summary and "zebracorn" in summary.lower()
    assert "Safety (NSFW score):" in summary and "vision done" in summary
    kinds = {row[0] for row in labels}
    assert "safety" in kinds and {row[3] for row in labels} == {"model"}
    assert {row[5] for row in chunks} == {"ocr", "image_description"}


def test_a_text_document_shows_no_picture(
    api_url: str, api_key: str, collection_name: str, tmp_path: Path
) -> None:
    key = api_key
    doc_id = _upload(api_url, key, tmp_path, collection_name, "plain.txt",
                     b"Only words here, about moraines and glaciers.")
    thumb, labels, summary = images.image_view(api_url, key, doc_id)
    assert thumb is None
    assert "Safety" not in summary and "Text read by OCR" not in summary
    assert all(row[0] != "object" for row in labels)


def test_an_unknown_or_foreign_document_shows_only_an_error(
    api_url: str, api_key: str, collection_name: str, tmp_path: Path
) -> None:
    key = api_key
    from tests.auth_fixtures import create_test_user

    doc_id = _upload(api_url, key, tmp_path, collection_name, "receipt.png", _receipt())
    stranger = create_test_user()
    thumb, labels, summary = images.image_view(api_url, stranger.api_key, doc_id)
    assert thumb is None and labels == [] and "404" in summary
    out = load_console_app()._open_document(api_url, key, "not-a-uuid")
    assert out[0] is None and out[3] is None and out[4] == [] and "Error" in out[2]
    assert images.image_view(api_url, key, "  ") == (None, [], "")

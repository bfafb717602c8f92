"""Served originals cannot run in the API's origin (issue 7, item 7): every download is
`nosniff` and `Content-Security-Policy: sandbox`; only PDF and raster images are `inline`;
the filename is RFC 6266 `filename*=UTF-8''...` and cannot inject headers."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import update

from app.documents.download_headers import content_disposition, disposition_type
from app.documents.models import Document
from tests.conftest import make_pdf, upload

HTML_PAGE = b"<html><body><script>alert(document.cookie)</script><p>Hello page</p></body></html>"


def _upload_one(client: Any, name: str, content: bytes, collection: str) -> str:
    resp = upload(client, [(name, content)], collection=collection)
    assert resp.status_code == 202, resp.text
    return str(resp.json()["documents"][0]["id"])


def _download(client: Any, doc_id: str) -> Any:
    resp = client.get(f"/api/v1/documents/{doc_id}/download")
    assert resp.status_code == 200, resp.text
    return resp


def test_html_downloads_as_attachment_with_nosniff_and_sandbox(
    client: Any, collection_name: str
) -> None:
    doc_id = _upload_one(client, "page.html", HTML_PAGE + uuid.uuid4().hex.encode(),
                         collection_name)
    resp = _download(client, doc_id)
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    assert resp.content.startswith(HTML_PAGE)


def test_pdf_downloads_inline_and_still_sandboxed(client: Any, collection_name: str) -> None:
    doc_id = _upload_one(client, "paper.pdf", make_pdf([f"PDF {uuid.uuid4()}"]), collection_name)
    resp = _download(client, doc_id)
    assert resp.headers["Content-Type"].startswith("application/pdf")
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "sandbox"


def test_a_hostile_filename_cannot_inject_headers(
    client: Any, collection_name: str, db: Any
) -> None:
    doc_id = _upload_one(client, "plain.txt", f"text {uuid.uuid4()}".encode(),
                         collection_name)
    hostile = 'evil".txt\r\nSet-Cookie: stolen=1\r\nX-Injected: yes\n\u00e9t\u00e9 \u65e5\u672c.txt'
    db.execute(update(Document).where(Document.id == uuid.UUID(doc_id)).values(filename=hostile))
    db.commit()
    resp = _download(client, doc_id)
    assert "set-cookie" not in resp.headers and "x-injected" not in resp.headers
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and fallback.isascii()
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == 'evil".txtSet-Cookie: stolen=1X-Injected: yesété 日本.txt'


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/pdf", "inline"), ("image/png", "inline"), ("image/jpeg", "inline"),
        ("image/svg+xml", "attachment"), ("text/html", "attachment"),
        ("text/html; charset=utf-8", "attachment"), ("application/xhtml+xml", "attachment"),
        ("text/plain", "attachment"), ("application/octet-stream", "attachment"),
        (None, "attachment"), ("APPLICATION/PDF", "inline"),
    ],
)
def test_only_types_safe_to_render_are_inline(content_type: str | None, expected: str) -> None:
    assert disposition_type(content_type) == expected


def test_an_empty_or_control_only_filename_gets_a_fallback_name() -> None:
    assert content_disposition("\r\n\x00", "text/plain") == (
        "attachment; filename=\"download\"; filename*=UTF-8''download"
    )

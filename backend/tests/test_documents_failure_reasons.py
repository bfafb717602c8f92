"""A failed document carries a stable code and a plain reason; the library's own message
(which may quote file internals, hosts or provider bodies) stays in the worker's log."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_docx, make_pdf, upload, wait_for_documents

LIBRARY_WORDS = ("Error", "Exception", "Traceback", "pypdf", "zipfile", "EOF marker", "xref")


def _fail(client: Any, collection: str, name: str, content: bytes) -> dict[str, Any]:
    resp = upload(client, [(name, content)], collection=collection)
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id])[doc_id]
    assert doc["status"] == "failed", doc
    return doc


def test_a_corrupt_pdf_fails_with_a_code_and_a_plain_reason(
    client: Any, collection_name: str
) -> None:
    broken = make_pdf(["a page"])[:400] + b"\x00garbage" * 50
    doc = _fail(client, collection_name, "broken.pdf", broken)
    assert doc["error_code"] == "parse_failed"
    assert doc["error"] == "The PDF is corrupt or unreadable."


def test_a_corrupt_docx_says_so_without_the_zip_library_talking(
    client: Any, collection_name: str
) -> None:
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(make_docx(["hello"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rebuilt:  # a real docx whose body XML is broken
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = b"<w:document><unclosed"
            rebuilt.writestr(item, data)
    broken = out.getvalue()
    doc = _fail(client, collection_name, "broken.docx", broken)
    assert doc["error_code"] == "parse_failed"
    assert not any(word in doc["error"] for word in LIBRARY_WORDS), doc["error"]


def test_a_file_with_no_text_fails_as_parse_failed(client: Any, collection_name: str) -> None:
    doc = _fail(client, collection_name, "blank.pdf", make_pdf(["", ""]))
    assert doc["error_code"] == "parse_failed" and "No text" in doc["error"]

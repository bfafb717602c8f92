"""Content types come from the bytes; the name only tells Markdown from plain text."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.core.errors import UnsupportedMediaType
from app.documents.sniff import DOCX, HTML, MARKDOWN, PDF, TEXT, sniff_content_type
from tests.conftest import make_docx, make_pdf


def _sniff(data: bytes, name: str) -> str:
    return sniff_content_type(data[:8192], name, data if data.startswith(b"PK") else None)


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_pdf_named_txt_is_pdf() -> None:
    assert _sniff(make_pdf(["hello"]), "notes.txt") == PDF


def test_text_named_pdf_is_text() -> None:
    assert _sniff(b"just some words, nothing more", "report.pdf") == TEXT


def test_docx_named_anything_is_docx() -> None:
    assert _sniff(make_docx(["hi"]), "file.bin") == DOCX


def test_markdown_is_decided_by_the_extension() -> None:
    assert _sniff(b"# Title\n\nbody", "readme.md") == MARKDOWN
    assert _sniff(b"# Title\n\nbody", "readme.txt") == TEXT


def test_html_is_recognised_by_its_markup_whatever_the_name() -> None:
    assert _sniff(b"<!DOCTYPE html><html><body>x</body></html>", "page.txt") == HTML
    assert _sniff(b"  <html><p>x</p></html>", "page") == HTML


def test_utf16_and_latin1_text_are_text() -> None:
    assert _sniff("Grüße aus Köln".encode("utf-16"), "a.txt") == TEXT
    assert _sniff("café crème brûlée".encode("latin-1"), "a.txt") == TEXT


def test_utf8_cut_in_the_middle_of_a_character_is_still_text() -> None:
    head = ("é" * 5000).encode()[:8191]  # two bytes a character: the last one is cut
    assert sniff_content_type(head, "a.txt") == TEXT


def test_zip_that_is_not_docx_is_415() -> None:
    with pytest.raises(UnsupportedMediaType) as excinfo:
        _sniff(_zip({"hello.txt": b"hi"}), "fake.docx")
    assert "zip" in excinfo.value.message.lower()


def test_png_is_an_image_even_named_txt() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    assert _sniff(png, "image.txt") == "image/png"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP"])
def test_every_supported_image_format_is_sniffed_from_its_bytes(fmt: str) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, fmt)
    assert _sniff(buf.getvalue(), "picture.bin") == f"image/{fmt.lower()}"


def test_an_image_type_outside_the_list_is_415() -> None:
    with pytest.raises(UnsupportedMediaType):
        _sniff(b"8BPS\x00\x01" + b"\x00" * 64, "layers.psd")  # Photoshop


def test_binary_without_signature_is_415() -> None:
    with pytest.raises(UnsupportedMediaType):
        _sniff(bytes(range(256)) * 8, "data.txt")

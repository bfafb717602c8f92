"""Parsers: readable text, page numbers where there are pages, ParseError for bad input."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.documents.sniff import DOCX, HTML, MARKDOWN, PDF, TEXT
from app.ingest.parsers import ParsedDocument, ParseError, Segment, parse
from tests.conftest import make_docx, make_pdf


def test_text_keeps_content_and_normalises_newlines() -> None:
    parsed = parse(b"First line\r\nsecond line\rthird", TEXT)
    assert parsed.text == "First line\nsecond line\nthird"
    assert parsed.title == "First line"
    assert parsed.page_count is None


def test_text_in_cp1252_is_decoded() -> None:
    assert (
        parse("naïve café \u2013 “quoted”".encode("cp1252"), TEXT).text
        == "naïve café \u2013 “quoted”"
    )


def test_utf8_bom_is_dropped() -> None:
    assert parse(b"\xef\xbb\xbfhello", TEXT).text == "hello"


def test_markdown_title_is_the_first_heading() -> None:
    parsed = parse(b"intro\n# The Heading\n\nbody text", MARKDOWN)
    assert parsed.title == "The Heading"
    assert "body text" in parsed.text


def test_html_drops_script_style_nav_and_keeps_body_text() -> None:
    html = (
        b"<html><head><title>Page Title</title><style>p{color:red}</style></head><body>"
        b"<nav>Home | About</nav><script>alert('x')</script><p>Visible paragraph.</p>"
        b"<noscript>enable js</noscript><footer>copyright</footer></body></html>"
    )
    parsed = parse(html, HTML)
    assert parsed.title == "Page Title"
    assert "Visible paragraph." in parsed.text
    for hidden in ("alert", "color:red", "Home | About", "enable js", "copyright"):
        assert hidden not in parsed.text


def test_pdf_pages_are_numbered_from_one() -> None:
    parsed = parse(make_pdf(["Alpha page text.", "Beta page text.", "Gamma page text."]), PDF)
    assert parsed.page_count == 3
    for word, page in (("Alpha", 1), ("Beta", 2), ("Gamma", 3)):
        offset = parsed.text.index(word)
        assert parsed.page_at(offset) == page


def test_pdf_blank_page_keeps_the_numbering_of_the_others() -> None:
    parsed = parse(make_pdf(["One.", "", "Three."]), PDF)
    assert parsed.page_count == 3
    assert parsed.page_at(parsed.text.index("Three")) == 3


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\ngarbage that is no pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4],
    ids=["garbage", "binary"],
)
def test_corrupt_pdf_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse(data, PDF)


def test_docx_paragraphs_and_tables() -> None:
    data = make_docx(["Para one.", "Para two."], table=[["Name", "Age"], ["Ada", "36"]])
    parsed = parse(data, DOCX)
    assert "Para one.\nPara two." in parsed.text
    assert "Name | Age" in parsed.text and "Ada | 36" in parsed.text


def test_docx_that_is_a_broken_zip_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        parse(make_docx(["x"])[:200], DOCX)


def test_docx_zip_without_word_document_raises_parse_error() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/other.xml", "<x/>")
    with pytest.raises(ParseError):
        parse(buf.getvalue(), DOCX)


def test_docx_decompression_bomb_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"0" * 20_000_000)
    with pytest.raises(ParseError, match="decompression bomb"):
        parse(buf.getvalue(), DOCX)


def test_whitespace_only_text_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="No text"):
        parse(b" \n\t \n", TEXT)


def test_unknown_content_type_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        parse(b"x", "application/x-nothing")


def test_parsed_document_joins_segments_and_maps_offsets_to_pages() -> None:
    parsed = ParsedDocument([Segment("aaa", 1), Segment("  ", 2), Segment("bbb", 3)])
    assert parsed.text == "aaa\n\nbbb"
    assert parsed.page_at(0) == 1
    assert parsed.page_at(4) == 1  # the separator belongs to the page before
    assert parsed.page_at(5) == 3

"""Turn an original into text, keeping page numbers where the format has pages.

Every parser raises ParseError (a permanent failure with a readable reason) for input it
cannot or will not read: corrupt, encrypted, too many pages, or a decompression bomb.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from app.documents.sniff import DOCX, HTML, IMAGES, MARKDOWN, PDF, TEXT
from app.providers.ocr.base import OcrLine

MAX_PDF_PAGES = 2000
# pypdf's decompression limits, per stream (its defaults are 75 MB). Text extraction only
# decodes content streams (and the fonts' maps), which are well under a few MB in real PDFs;
# a "PDF bomb" (a few MB that inflate to gigabytes) stops at this limit with LimitReachedError.
MAX_PDF_STREAM_BYTES = 32 * 1024 * 1024
MAX_PDF_DECODING_WORK_BYTES = 4 * MAX_PDF_STREAM_BYTES
PDF_LIMITS = {
    "maximum_declared_stream_length": MAX_PDF_STREAM_BYTES,
    "array_based_stream_maximum_output_length": MAX_PDF_STREAM_BYTES,
    "zlib_maximum_output_length": MAX_PDF_STREAM_BYTES,
    "lzw_maximum_output_length": MAX_PDF_STREAM_BYTES,
    "run_length_maximum_output_length": MAX_PDF_STREAM_BYTES,
    "brotli_maximum_output_length": MAX_PDF_STREAM_BYTES,
    "jbig2_maximum_output_length": MAX_PDF_STREAM_BYTES,
    "image_maximum_buffer_size": MAX_PDF_STREAM_BYTES,
    "xmp_maximum_input_length": MAX_PDF_STREAM_BYTES,
    "stream_decoding_work_maximum_length": MAX_PDF_DECODING_WORK_BYTES,
    "xfa_decoding_work_maximum_length": MAX_PDF_DECODING_WORK_BYTES,
}
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_DOCX_RATIO = 200


class ParseError(Exception):
    """The file cannot be parsed; retrying will not help. `code` is the document's
    error_code (app.documents.failures.FailureCode)."""

    code = "parse_failed"


@dataclass
class Segment:
    text: str
    page: int | None = None
    source: str = "text"  # "text" (the file's own text), "ocr" or "image_description"
    # OCR lines with their (start, end) offsets in `text`
    lines: list[tuple[int, int, OcrLine]] = field(default_factory=list)


def ocr_segment(lines: list[OcrLine], page: int | None) -> Segment:
    """One segment of OCR'd lines, one line of text each, offsets kept for their boxes."""
    spans: list[tuple[int, int, OcrLine]] = []
    offset = 0
    for line in lines:
        spans.append((offset, offset + len(line.text), line))
        offset += len(line.text) + 1
    return Segment("\n".join(line.text for line in lines), page=page, source="ocr", lines=spans)


@dataclass
class ParsedDocument:
    segments: list[Segment]
    page_count: int | None = None
    title: str | None = None
    text: str = field(init=False, default="")
    # (start offset in `text`, page) for each segment, in order
    page_starts: list[tuple[int, int | None]] = field(init=False, default_factory=list)
    # (start offset in `text`, segment) for each non-empty segment, in order
    placed: list[tuple[int, Segment]] = field(init=False, default_factory=list)
    # Facts beyond the text, filled by the image and PDF paths: the document_images row,
    # the thumbnail (WebP bytes), which path read each page, a breakdown of parse time.
    image: dict[str, Any] | None = field(init=False, default=None)
    thumbnail: bytes | None = field(init=False, default=None)
    pages: list[dict[str, Any]] | None = field(init=False, default=None)
    timings: dict[str, float] = field(init=False, default_factory=dict)
    # An image's analysis (app.images.analysis.ImageAnalysis) and, when the vision models
    # failed on it, the plain reason: the ingest write stores both.
    vision: Any = field(init=False, default=None)
    vision_error: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        parts: list[str] = []
        offset = 0
        for seg in self.segments:
            if not seg.text.strip():
                continue
            if parts:
                parts.append("\n\n")
                offset += 2
            self.page_starts.append((offset, seg.page))
            self.placed.append((offset, seg))
            parts.append(seg.text)
            offset += len(seg.text)
        self.text = "".join(parts)

    def page_at(self, offset: int) -> int | None:
        page: int | None = None
        for start, p in self.page_starts:
            if start > offset:
                break
            page = p
        return page


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: Windows-1252 is the usual culprit; it maps nearly every byte.
        return data.decode("cp1252", errors="replace")


def _clean(text: str) -> str:
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def parse_text(data: bytes) -> ParsedDocument:
    text = _clean(decode_text(data))
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), None)
    return ParsedDocument([Segment(text)], title=first[:200] if first else None)


def parse_markdown(data: bytes) -> ParsedDocument:
    text = _clean(decode_text(data))
    title = next(
        (ln.lstrip("#").strip() for ln in text.splitlines() if ln.startswith("#")), None
    )
    return ParsedDocument([Segment(text)], title=title)


# HTML5 tree building is quadratic in nesting depth (20,000 nested <div>s take seconds,
# 200,000 take many minutes), so a hostile page could hold a worker. Real pages nest a few
# dozen levels; past MAX_HTML_DEPTH the text is extracted by a linear tokenizer instead.
MAX_HTML_DEPTH = 1000
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*?(/?)>")
# Void elements and those whose end tag is optional do not (reliably) nest.
_NO_NEST = frozenset(
    [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb",
        "rt", "rtc", "rp", "thead", "tbody", "tfoot", "colgroup", "caption", "html", "head",
        "body",
    ]
)
_SKIP_TEXT = frozenset({"script", "style", "noscript", "template", "svg", "nav", "footer"})


def html_nesting_depth(text: str) -> int:
    """The deepest nesting of start tags (a cheap upper estimate, no tree is built)."""
    depth = peak = 0
    for match in _TAG.finditer(text):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _NO_NEST:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            peak = max(peak, depth)
    return peak


class _FlatText(HTMLParser):
    """Text of an HTML page in one linear pass, for pages too deep to build a tree of."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self._skipping: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TEXT:
            self._skipping.append(tag)
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()
        self._in_title = False

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text:
            return
        if self._in_title:
            self.title = self.title or text[:200]
        elif not self._skipping:
            self.parts.append(text)


def _parse_html_flat(text: str) -> ParsedDocument:
    parser = _FlatText()
    parser.feed(text)
    parser.close()
    return ParsedDocument([Segment(_clean("\n".join(parser.parts)))], title=parser.title)


def parse_html(data: bytes) -> ParsedDocument:
    from selectolax.lexbor import LexborHTMLParser

    source = decode_text(data)
    if html_nesting_depth(source) > MAX_HTML_DEPTH:
        return _parse_html_flat(source)
    tree = LexborHTMLParser(source)
    for selector in ("script", "style", "noscript", "template", "svg", "nav", "footer"):
        for node in tree.css(selector):
            node.decompose()
    title_node = tree.css_first("title") or tree.css_first("h1")
    title = title_node.text(strip=True) if title_node else None
    body = tree.body or tree.root
    text = body.text(separator="\n", strip=True) if body is not None else ""
    return ParsedDocument([Segment(_clean(text))], title=title or None)


def parse_pdf(data: bytes) -> ParsedDocument:
    from pypdf import apply_configuration, get_configuration
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        with apply_configuration(get_configuration().with_overwrites(**PDF_LIMITS)):
            return _read_pdf(data)
    except ParseError:
        raise
    except LimitReachedError as exc:
        mb = MAX_PDF_STREAM_BYTES // (1024 * 1024)
        raise ParseError(
            f"The PDF expands past {mb} MB in one of its parts (a decompression bomb, or far "
            "more than text needs): refused."
        ) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ParseError("The PDF is corrupt or unreadable.") from exc
    except RecursionError as exc:
        raise ParseError("The PDF is nested too deeply to read.") from exc


def _read_pdf(data: bytes) -> ParsedDocument:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise ParseError("The PDF is encrypted; upload a copy without a password.")
    count = len(reader.pages)
    if count > MAX_PDF_PAGES:
        raise ParseError(f"The PDF has {count} pages; the limit is {MAX_PDF_PAGES}.")
    segments = [
        Segment(_clean(page.extract_text() or ""), page=i + 1)
        for i, page in enumerate(reader.pages)
    ]
    meta_title = reader.metadata.title if reader.metadata else None
    return ParsedDocument(segments, page_count=count, title=meta_title or None)


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ParseError("The DOCX is not a valid zip container.") from exc
    if total > MAX_DOCX_UNCOMPRESSED or total > max(len(data), 1) * MAX_DOCX_RATIO:
        raise ParseError(
            f"The DOCX expands to {total} bytes from {len(data)}: refused as a decompression bomb."
        )


def parse_docx(data: bytes) -> ParsedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                paragraphs.append(" | ".join(cell.text for cell in row.cells))
        title = document.core_properties.title or next(
            (
                p.text
                for p in document.paragraphs
                if p.style is not None and p.style.name.startswith("Heading")
            ),
            None,
        )
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ParseError("The DOCX is corrupt or unreadable.") from exc
    except Exception as exc:  # lxml raises XMLSyntaxError and friends
        raise ParseError("The DOCX could not be read.") from exc
    return ParsedDocument([Segment(_clean("\n".join(paragraphs)))], title=title or None)


PARSERS: dict[str, Callable[[bytes], ParsedDocument]] = {
    TEXT: parse_text,
    MARKDOWN: parse_markdown,
    HTML: parse_html,
    PDF: parse_pdf,
    DOCX: parse_docx,
}


def parse(data: bytes, content_type: str, filename: str = "") -> ParsedDocument:
    """The text of a file. An image may have none (a photo): it is still a document, found
    by its description (what it shows, its words, its file name)."""
    if content_type in IMAGES:
        from app.ingest.images import parse_image

        return parse_image(data, filename)
    try:
        parser = PARSERS[content_type]
    except KeyError as exc:
        raise ParseError(f"No parser for {content_type}.") from exc
    parsed = parser(data)
    if content_type == PDF:
        from app.ingest.scanned import complete_pdf

        parsed = complete_pdf(data, parsed)
    if not parsed.text.strip():
        raise ParseError("No text could be extracted from the file (is it a scan or empty?).")
    return parsed

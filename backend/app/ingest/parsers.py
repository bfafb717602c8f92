"""Turn an original into text, keeping page numbers where the format has pages.

Every parser raises ParseError (a permanent failure with a readable reason) for input it
cannot or will not read: corrupt, encrypted, too many pages, or a decompression bomb.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from app.documents.sniff import DOCX, HTML, MARKDOWN, PDF, TEXT

MAX_PDF_PAGES = 5000
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_DOCX_RATIO = 200


class ParseError(Exception):
    """The file cannot be parsed; retrying will not help."""


@dataclass
class Segment:
    text: str
    page: int | None = None


@dataclass
class ParsedDocument:
    segments: list[Segment]
    page_count: int | None = None
    title: str | None = None
    text: str = field(init=False, default="")
    # (start offset in `text`, page) for each segment, in order
    page_starts: list[tuple[int, int | None]] = field(init=False, default_factory=list)

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


def parse_html(data: bytes) -> ParsedDocument:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_text(data))
    for selector in ("script", "style", "noscript", "template", "svg", "nav", "footer"):
        for node in tree.css(selector):
            node.decompose()
    title_node = tree.css_first("title") or tree.css_first("h1")
    title = title_node.text(strip=True) if title_node else None
    body = tree.body or tree.root
    text = body.text(separator="\n", strip=True) if body is not None else ""
    return ParsedDocument([Segment(_clean(text))], title=title or None)


def parse_pdf(data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
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
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ParseError(f"The PDF is corrupt or unreadable: {exc}") from exc
    return ParsedDocument(segments, page_count=count, title=meta_title or None)


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ParseError(f"The DOCX is not a valid zip container: {exc}") from exc
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
            (p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")),
            None,
        )
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ParseError(f"The DOCX is corrupt or unreadable: {exc}") from exc
    except Exception as exc:  # lxml raises XMLSyntaxError and friends
        raise ParseError(f"The DOCX could not be read: {exc}") from exc
    return ParsedDocument([Segment(_clean("\n".join(paragraphs)))], title=title or None)


PARSERS: dict[str, Callable[[bytes], ParsedDocument]] = {
    TEXT: parse_text,
    MARKDOWN: parse_markdown,
    HTML: parse_html,
    PDF: parse_pdf,
    DOCX: parse_docx,
}


def parse(data: bytes, content_type: str) -> ParsedDocument:
    try:
        parser = PARSERS[content_type]
    except KeyError as exc:
        raise ParseError(f"No parser for {content_type}.") from exc
    parsed = parser(data)
    if not parsed.text.strip():
        raise ParseError("No text could be extracted from the file (is it a scan or empty?).")
    return parsed

"""PDFs beyond their text layer (pypdfium2): the first page's thumbnail, and OCR of the pages
that have no text layer (or a negligible one), so scans are searchable like born-digital
PDFs. Which path read each page is recorded (`pages`: text_layer, ocr, or none when a page
without text was past the OCR budget).

The work is bounded: at most PDF_OCR_MAX_PAGES pages are OCR'd, each rendered at
PDF_OCR_DPI but never to more than MAX_RENDER_PIXELS pixels.

PDFium is not thread-safe, not even across documents (pypdfium2's docs; two PDFs completed
at once by the threads pool's worker threads crashed the worker with `free(): invalid
pointer`): every pdfium call runs under PDFIUM_LOCK, the document, its pages and bitmaps are
closed there (never left to a garbage-collection finaliser on another thread), and OCR, the
slow part, runs outside it.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, cast

from PIL import Image

from app.core.config import get_settings
from app.core.logging import get_logger
from app.ingest.images import thumbnail
from app.ingest.parsers import ParsedDocument, ParseError, Segment, ocr_segment
from app.providers.ocr import OcrError, get_ocr

log = get_logger(__name__)
MAX_RENDER_PIXELS = 12_000_000
# A rendered page whose darkest and lightest grey differ by less than this is blank.
BLANK_CONTRAST = 16
_POINTS_PER_INCH = 72
PDFIUM_LOCK = threading.Lock()


def render_page(page: Any, dpi: int, max_pixels: int = MAX_RENDER_PIXELS) -> Image.Image:
    """One page as an RGB image at `dpi`, scaled down to stay under `max_pixels` (the
    caller holds PDFIUM_LOCK)."""
    width, height = page.get_size()
    scale = dpi / _POINTS_PER_INCH
    area = max(width * height, 1.0)
    scale = min(scale, math.sqrt(max_pixels / area))
    bitmap = page.render(scale=scale)
    try:
        return bitmap.to_pil().convert("RGB")  # type: ignore[no-any-return]
    finally:
        bitmap.close()


def _first_page(pdf: Any, size: int) -> Image.Image | None:
    """The first page rendered for a `size` thumbnail (the caller holds PDFIUM_LOCK)."""
    if len(pdf) == 0:
        return None
    page = pdf[0]
    try:
        width, height = page.get_size()
        dpi = max(1, int(size / max(width, height, 1.0) * _POINTS_PER_INCH * 2))
        return render_page(page, dpi, max_pixels=4 * size * size)
    finally:
        page.close()


def complete_pdf(data: bytes, parsed: ParsedDocument) -> ParsedDocument:
    """The parsed PDF with its scanned pages OCR'd, its pages recorded and a thumbnail."""
    import pypdfium2 as pdfium

    settings = get_settings()
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            pdf = None
    if pdf is None:
        # pypdf read it but pdfium cannot: keep the text layer, no thumbnail, no OCR.
        log.warning("pdf_not_renderable")
        parsed.pages = [{"page": s.page, "source": "text_layer"} for s in parsed.segments]
        return parsed
    ocr_ms = render_ms = 0.0
    pages: list[dict[str, Any]] = []
    segments: list[Segment] = []
    budget = settings.pdf_ocr_max_pages
    try:
        with PDFIUM_LOCK:
            first = _first_page(pdf, settings.thumbnail_size)
        thumb = None if first is None else thumbnail(first, settings.thumbnail_size)
        for seg in parsed.segments:
            chars = len(seg.text.strip())
            if chars >= settings.pdf_ocr_min_chars or budget <= 0 or seg.page is None:
                segments.append(seg)
                pages.append({"page": seg.page, "source": "text_layer" if chars else "none"})
                continue
            budget -= 1
            clock = time.perf_counter()
            with PDFIUM_LOCK:
                page = pdf[seg.page - 1]
                try:
                    image = render_page(page, settings.pdf_ocr_dpi)
                finally:
                    page.close()
            render_ms += (time.perf_counter() - clock) * 1000
            low, high = cast("tuple[int, int]", image.convert("L").getextrema())
            if high - low < BLANK_CONTRAST:  # a blank page: nothing to read
                segments.append(seg)
                pages.append({"page": seg.page, "source": "text_layer" if chars else "none"})
                continue
            try:
                result = get_ocr().read(image)
            except OcrError as exc:
                raise ParseError(f"Page {seg.page} could not be read by OCR.") from exc
            ocr_ms += result.ms
            read = ocr_segment(result.lines, seg.page)
            if len(read.text.strip()) <= chars:  # OCR found less than the text layer has
                segments.append(seg)
                pages.append({"page": seg.page, "source": "text_layer"})
                continue
            segments.append(read)
            pages.append({"page": seg.page, "source": "ocr", "lines": len(result.lines),
                          "ms": result.ms})
    except pdfium.PdfiumError as exc:
        raise ParseError("A page of the PDF could not be rendered.") from exc
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    out = ParsedDocument(segments, page_count=parsed.page_count, title=parsed.title)
    out.pages = pages
    out.thumbnail = thumb
    ocr_pages = sum(1 for p in pages if p["source"] == "ocr")
    if ocr_pages:
        out.timings.update({"ocr_ms": round(ocr_ms, 1), "render_ms": round(render_ms, 1),
                            "ocr_pages": float(ocr_pages)})
    return out

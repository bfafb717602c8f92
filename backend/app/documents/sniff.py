"""Decide a file's type from its bytes, never from its name."""

from __future__ import annotations

import io
import zipfile

import filetype

from app.core.errors import UnsupportedMediaType

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
GIF = "image/gif"
TIFF = "image/tiff"
BMP = "image/bmp"
IMAGES = (PNG, JPEG, WEBP, GIF, TIFF, BMP)

SUPPORTED = (TEXT, MARKDOWN, HTML, PDF, DOCX, *IMAGES)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<p>", b"<div", b"<h1")
_MD_EXTENSIONS = (".md", ".markdown", ".mdown")


def sniff_content_type(head: bytes, filename: str, whole: bytes | None = None) -> str:
    """The content type of a file from its first bytes (and the whole, for zip containers).

    The filename only decides between Markdown and plain text, which have no signature.
    Raises UnsupportedMediaType for anything else.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    kind = filetype.guess(head)
    if kind is not None and kind.mime in ("application/zip", DOCX):
        if whole is not None and _is_docx(whole):
            return DOCX
        raise UnsupportedMediaType(
            "This zip container is not a Word document (.docx).",
            details={"detected": kind.mime},
        )
    if kind is not None and not _is_clean_text(head):
        if kind.mime in IMAGES:
            return str(kind.mime)
        raise UnsupportedMediaType(
            f"Files of type {kind.mime} are not supported.",
            details={"detected": kind.mime, "supported": list(SUPPORTED)},
        )
    text = _decode_text(head)
    if text is None:
        raise UnsupportedMediaType(
            "The file is binary and of no supported type.",
            details={"supported": list(SUPPORTED)},
        )
    lowered = head[:2048].lstrip().lower()
    if any(lowered.startswith(m) or m in lowered[:512] for m in _HTML_MARKERS):
        return HTML
    if filename.lower().endswith(_MD_EXTENSIONS):
        return MARKDOWN
    return TEXT


def _is_clean_text(head: bytes) -> bool:
    """UTF-8 with no control characters: text whose first bytes merely look like a weak
    signature (a plain-text file starting "BM..." matches filetype's BMP check)."""
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return False
        decoded = head[: exc.start].decode("utf-8")
    return not any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in decoded)


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def _decode_text(head: bytes) -> str | None:
    """Text if the bytes look like text (UTF-8/16 or a single-byte encoding without NULs)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed window is still text.
        if exc.start >= len(head) - 4:
            return head[: exc.start].decode("utf-8", errors="replace")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return None if controls > len(head) * 0.05 else head.decode("latin-1")

"""Headers of a served original (GET /api/v1/documents/{id}/download).

An uploaded file is whatever its uploader made it: a browser must never run it in the API's
origin. So every download says `X-Content-Type-Options: nosniff` (no guessing another type)
and `Content-Security-Policy: sandbox` (no script, no same-origin access even if rendered),
and only types that are safe to render (PDF and raster images; not SVG, not HTML) are served
`inline`; everything else is an `attachment`. The filename is an RFC 6266 / RFC 8187
`filename*=UTF-8''...` (percent-encoded, so quotes and line breaks cannot end the header)
with a plain ASCII `filename="..."` fallback.
"""

from __future__ import annotations

from urllib.parse import quote

INLINE_TYPES = frozenset({
    "application/pdf",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff",
})
FALLBACK_NAME = "download"


def disposition_type(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return "inline" if media in INLINE_TYPES else "attachment"


def _printable(filename: str) -> str:
    # No control characters (CR, LF, NUL, DEL, ...) and no path separators.
    kept = "".join(
        ch for ch in filename if ch.isprintable() and ch not in "/\\"
    ).strip()
    return kept[:255] or FALLBACK_NAME


def content_disposition(filename: str, content_type: str | None) -> str:
    name = _printable(filename)
    ascii_name = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"%;' else "_" for ch in name
    )
    encoded = quote(name, safe="")
    kind = disposition_type(content_type)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def download_headers(filename: str, content_type: str | None, size: int) -> dict[str, str]:
    return {
        "Content-Disposition": content_disposition(filename, content_type),
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }

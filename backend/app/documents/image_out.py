"""Response pieces of image documents: the image facts (GPS only when asked for) and the
headers of a served thumbnail."""

from __future__ import annotations

from typing import Any

from app.documents.download_headers import content_disposition
from app.documents.models import DocumentImage
from app.documents.thumbnails import Thumbnail

# Private: the thumbnail is only for those who may read the document. A client revalidates
# with If-None-Match after an hour (a re-ingest may change which thumbnail a document has).
THUMBNAIL_CACHE_CONTROL = "private, max-age=3600"


def image_out(image: DocumentImage | None, *, include_gps: bool) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "frames": image.frames,
        "exif": image.exif,
        "gps": image.gps if include_gps else None,
        "ocr": image.ocr,
    }


def thumbnail_headers(thumb: Thumbnail) -> dict[str, str]:
    return {
        "ETag": thumb.etag,
        "Cache-Control": THUMBNAIL_CACHE_CONTROL,
        "Content-Disposition": content_disposition(thumb.filename, "image/webp"),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }

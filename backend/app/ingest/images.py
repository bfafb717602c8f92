"""Images as documents: open within Pillow's limits, read size, format and EXIF (GPS kept
apart), make the thumbnail, and read the text in the picture by OCR.

Only the first frame of an animated GIF or a multi-page TIFF is read (the frame count is
recorded). Orientation from EXIF is applied before anything else, so the thumbnail, the OCR
boxes and the reported width and height are those of the upright picture.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from app.core.config import get_settings
from app.core.logging import get_logger
from app.images.analysis import ImageAnalysis, analyze, description
from app.ingest.parsers import ParsedDocument, ParseError, Segment, ocr_segment
from app.providers.ocr import OcrError, OcrResult, get_ocr
from app.providers.vision import VisionError

log = get_logger(__name__)

MIN_OCR_SIDE = 12
MAX_OCR_ASPECT = 60
_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
# Tags kept besides camera and taken_at (plain strings or numbers, sanitised).
_EXTRA_TAGS = {"Software": ExifTags.Base.Software, "LensModel": ExifTags.Base.LensModel}
_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


class ImageTooLarge(ParseError):
    """More pixels than IMAGE_MAX_PIXELS: refused as a decompression bomb."""

    code = "image_too_large"


@dataclass
class ImageHeader:
    width: int
    height: int
    format: str


def read_header(stream: IO[bytes], max_pixels: int) -> ImageHeader:
    """Size and format from the header only (nothing is decoded). Raises ImageTooLarge past
    the limit and ParseError if Pillow cannot identify the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as img:
                header = ImageHeader(img.width, img.height, str(img.format or "unknown"))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(_too_large_reason(None, None, max_pixels)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ParseError("The image is corrupt or of a kind Pillow cannot read.") from exc
    if header.width * header.height > max_pixels:
        raise ImageTooLarge(_too_large_reason(header.width, header.height, max_pixels))
    return header


def _too_large_reason(width: int | None, height: int | None, max_pixels: int) -> str:
    size = f" ({width} x {height})" if width is not None else ""
    return (f"The image{size} has more than {max_pixels} pixels: refused as a possible "
            "decompression bomb.")


def open_upright(data: bytes, max_pixels: int) -> tuple[Image.Image, Image.Image, int]:
    """(the decoded first frame turned upright, the file as opened (for EXIF), frames)."""
    read_header(io.BytesIO(data), max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            raw = Image.open(io.BytesIO(data))
            frames = int(getattr(raw, "n_frames", 1) or 1)
            raw.seek(0)
            raw.load()
            upright = ImageOps.exif_transpose(raw) or raw
            if upright.mode not in ("RGB", "RGBA", "L"):
                upright = upright.convert("RGBA" if "A" in upright.mode else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_too_large_reason(None, None, max_pixels)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ParseError("The image is corrupt or truncated and could not be decoded.") from exc
    return upright, raw, frames


def thumbnail(image: Image.Image, size: int) -> bytes:
    """A WebP no larger than size x size, aspect ratio kept."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGB")
    buf = io.BytesIO()
    thumb.save(buf, "WEBP", quality=80, method=4)
    return buf.getvalue()


def _text(value: Any, limit: int = 200) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:limit] or None


def _taken_at(raw: Any, offset: Any) -> str | None:
    match = _EXIF_DATE.match(_text(raw) or "")
    if match is None:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in match.groups())
        stamp = datetime(y, mo, d, h, mi, sec)  # EXIF has no zone
    except ValueError:
        return None
    zone = _text(offset) or ""
    return stamp.isoformat() + (zone if re.fullmatch(r"[+-]\d{2}:\d{2}", zone) else "")


def read_exif(raw: Image.Image) -> tuple[dict[str, Any], dict[str, float] | None]:
    """(EXIF facts, GPS position or None). Unreadable EXIF is treated as absent."""
    try:
        exif = raw.getexif()
        sub = exif.get_ifd(_EXIF_IFD)
        gps_ifd = exif.get_ifd(_GPS_IFD)
    except Exception:  # malformed EXIF blocks raise many kinds of errors
        return {}, None
    make, model = _text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))
    camera = " ".join(p for p in (make, model) if p) or None
    if make and model and model.lower().startswith(make.lower()):
        camera = model
    orientation = exif.get(ExifTags.Base.Orientation)
    facts: dict[str, Any] = {
        "camera": camera,
        "make": make,
        "model": model,
        "taken_at": _taken_at(
            sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime),
            sub.get(ExifTags.Base.OffsetTimeOriginal),
        ),
        "orientation": orientation if isinstance(orientation, int) else None,
    }
    for name, tag in _EXTRA_TAGS.items():
        value = _text(sub.get(tag) or exif.get(tag))
        if value:
            facts[name.lower()] = value
    return facts, _gps(gps_ifd)


def _degrees(value: Any) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return d + m / 60 + s / 3600


def _gps(ifd: Any) -> dict[str, float] | None:
    lat, lon = _degrees(ifd.get(2)), _degrees(ifd.get(4))
    if lat is None or lon is None:
        return None
    if _text(ifd.get(1)) == "S":
        lat = -lat
    if _text(ifd.get(3)) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"lat": round(lat, 7), "lon": round(lon, 7)}


def _legible(image: Image.Image) -> bool:
    """Worth reading: a sliver (a side under MIN_OCR_SIDE pixels, or longer than
    MAX_OCR_ASPECT times the other) holds no legible line, and trips the detector."""
    short, long = sorted(image.size)
    return short >= MIN_OCR_SIDE and long <= short * MAX_OCR_ASPECT


def parse_image(data: bytes, filename: str = "") -> ParsedDocument:
    settings = get_settings()
    upright, raw, frames = open_upright(data, settings.image_max_pixels)
    exif, gps = read_exif(raw)
    thumb = thumbnail(upright, settings.thumbnail_size)
    engine = get_ocr()
    try:
        result = engine.read(upright) if _legible(upright) else OcrResult([], 0.0)
    except OcrError as exc:
        raise ParseError("The text in the image could not be read (OCR failed).") from exc
    segments: list[Segment] = [ocr_segment(result.lines, page=None)] if result.lines else []
    analysis, vision_error = see(upright, filename, result, exif)
    if analysis is not None:
        segments.append(Segment(description(analysis), source="image_description"))
    parsed = ParsedDocument(segments)
    parsed.vision, parsed.vision_error = analysis, vision_error
    if analysis is not None:
        parsed.timings.update({f"vision_{k}": round(v, 1) for k, v in analysis.timings_ms.items()})
    parsed.thumbnail = thumb
    parsed.image = {
        "width": upright.width,
        "height": upright.height,
        "format": str(raw.format or "unknown"),
        "frames": frames,
        "exif": exif,
        "gps": gps,
        "ocr": {"engine": engine.name, "lines": len(result.lines), "ms": result.ms},
    }
    parsed.timings["ocr_ms"] = result.ms
    return parsed


def see(
    picture: Image.Image, filename: str, ocr: OcrResult, exif: dict[str, Any]
) -> tuple[ImageAnalysis | None, str | None]:
    """What the picture shows (app.images.analysis), or why the vision models could not
    tell: the document stays readable by its words either way (the failure is recorded as
    its `vision` labeler run, never as a failed document)."""
    try:
        text = "\n".join(line.text for line in ocr.lines)
        return analyze(picture, filename=filename, ocr_text=text, exif=exif), None
    except VisionError as exc:
        log.warning("vision_failed", filename=filename, reason=str(exc))
        return None, "The image models could not read this picture."

"""Staging of uploaded files before anything is stored: a clean display name, the metadata
checked, each file spooled while its SHA-256 and size are computed and its type sniffed from
its bytes. Nothing here touches the database or the object store."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from app.core.errors import PayloadTooLarge, Unprocessable
from app.documents.sniff import IMAGES, sniff_content_type

SNIFF_BYTES = 8192


@dataclass
class IncomingFile:
    filename: str
    stream: BinaryIO


@dataclass
class StagedFile:
    filename: str
    spool: BinaryIO
    size: int
    sha256: str
    content_type: str


def clean_filename(raw: str | None) -> str:
    """A display name with no path, control characters or excess length."""
    name = (raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return (name or "unnamed")[:255]


def parse_metadata(raw: str | None) -> dict[str, Any]:
    if raw is None or raw.strip() == "":
        return {}
    if len(raw) > 65_536:
        raise Unprocessable("metadata is larger than 16 KB.")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Unprocessable(f"metadata is not valid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise Unprocessable("metadata is nested too deeply.") from exc
    if not isinstance(value, dict):
        raise Unprocessable("metadata must be a JSON object.")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except ValueError as exc:  # NaN / Infinity: not JSON, and JSONB refuses them
        raise Unprocessable("metadata may not contain NaN or Infinity.") from exc
    if len(encoded) > 16_384:
        raise Unprocessable("metadata is larger than 16 KB.")
    if "\\u0000" in encoded:
        raise Unprocessable("metadata may not contain NUL characters.")
    return value


def stage_file(incoming: IncomingFile, max_bytes: int) -> StagedFile:
    """Copy the upload to a spool file, hashing as it goes; refuse it past the limit."""
    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    size = 0
    head = b""
    while chunk := incoming.stream.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            spool.close()
            raise PayloadTooLarge(
                f"{incoming.filename} is larger than the {max_bytes} byte limit.",
                details={"filename": incoming.filename, "limit_bytes": max_bytes},
            )
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        spool.write(chunk)
    if size == 0:
        spool.close()
        raise Unprocessable(
            f"{incoming.filename} is empty.",
            code="empty_file",
            details={"filename": incoming.filename},
        )
    spool.seek(0)
    whole = spool.read() if head.startswith(b"PK") else None
    try:
        content_type = sniff_content_type(head, incoming.filename, whole)
        if content_type in IMAGES:
            spool.seek(0)
            check_image(spool, incoming.filename)  # header only: cheap
    except Exception:
        spool.close()
        raise
    spool.seek(0)
    return StagedFile(incoming.filename, spool, size, digest.hexdigest(), content_type)  # type: ignore[arg-type]


def check_image(spool: IO[bytes], filename: str) -> None:
    """Refuse at upload an image whose header declares more than IMAGE_MAX_PIXELS pixels (a
    decompression bomb) or that Pillow cannot identify; the worker checks again."""
    from app.core.config import get_settings
    from app.ingest.images import ImageTooLarge, read_header
    from app.ingest.parsers import ParseError

    try:
        read_header(spool, get_settings().image_max_pixels)
    except ImageTooLarge as exc:
        raise Unprocessable(str(exc), code="image_too_large",
                            details={"filename": filename}) from exc
    except ParseError as exc:
        raise Unprocessable(f"{filename}: {exc}", code="corrupt_image",
                            details={"filename": filename}) from exc

"""OCR engines, chosen once from configuration here; nothing else imports an implementation.

The engine loads its models lazily on the first read and is shared by every thread of the
process (the worker's and the benchmark's)."""

from __future__ import annotations

from app.core.config import Settings, get_settings
from app.core.once import build_once
from app.providers.ocr.base import OcrEngine, OcrError, OcrLine, OcrResult

__all__ = ["OcrEngine", "OcrError", "OcrLine", "OcrResult", "build_ocr", "get_ocr"]


def build_ocr(settings: Settings) -> OcrEngine:
    from app.providers.ocr.rapid import RapidOcrEngine

    return RapidOcrEngine(threads=settings.ocr_threads, min_score=settings.ocr_min_score)


@build_once
def get_ocr() -> OcrEngine:
    return build_ocr(get_settings())

"""RapidOCR (PP-OCR detection + recognition on onnxruntime). The weights ship inside the
`rapidocr` wheel, so nothing is downloaded. One engine per process, made on first use; its
onnxruntime sessions are safe to call from several threads."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from PIL import Image

from app.providers.ocr.base import OcrError, OcrLine, OcrResult


class RapidOcrEngine:
    def __init__(self, *, threads: int, min_score: float) -> None:
        self._threads = threads
        self._min_score = min_score
        self._engine: Any = None
        self._lock = threading.Lock()
        self.name = f"rapidocr-{_version()}"

    def _get(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from rapidocr import RapidOCR

                    self._engine = RapidOCR(params={
                        "Global.log_level": "error",
                        "Global.text_score": self._min_score,
                        "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    })
        return self._engine

    def read(self, image: Image.Image) -> OcrResult:
        engine = self._get()
        start = time.perf_counter()
        try:
            out = engine(np.asarray(image.convert("RGB")))
        except Exception as exc:  # the library raises plain exceptions of many kinds
            raise OcrError(f"OCR failed: {type(exc).__name__}") from exc
        ms = round((time.perf_counter() - start) * 1000, 1)
        texts = out.txts or ()
        boxes = out.boxes if out.boxes is not None else ()
        scores = out.scores or ()
        lines = [
            OcrLine(
                text=str(text),
                box=[[round(float(x), 1), round(float(y), 1)] for x, y in box],
                score=round(float(score), 4),
            )
            for text, box, score in zip(texts, boxes, scores, strict=False)
            if str(text).strip()
        ]
        return OcrResult(lines, ms)


def _version() -> str:
    from importlib.metadata import version

    return version("rapidocr")

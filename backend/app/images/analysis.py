"""The analysis of one image: pure, no database. The ingest pipeline calls `analyze` on the
decoded image, writes `description(analysis)` as the image's searchable description chunk and
hands the analysis to `repository.save` in its write transaction.

A perceptual hash is imagehash's pHash: 64 bits (DCT of a 32x32 greyscale), robust to
resizing and re-encoding; near-duplicates differ in few bits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import imagehash
from PIL import Image

from app.core.config import get_settings
from app.providers.vision import (
    LabelingEmbedder,
    VisionError,
    get_image_embedder,
    get_image_labeler,
    get_safety_scorer,
)

OCR_EXCERPT_CHARS = 600


@dataclass(frozen=True)
class ImageAnalysis:
    objects: list[tuple[str, float]]  # readable class name, probability; most likely first
    vector: list[float]  # unit vector of the image embedder
    model: str  # the image embedder's name (vectors of one model are compared)
    dim: int
    labeler: str | None  # "name@version" of the object labeler, None if disabled
    nsfw: float | None  # None when the safety scorer is disabled
    safety_model: str | None
    phash: int  # 64-bit perceptual hash, as an unsigned int
    filename: str
    ocr_text: str
    exif: dict[str, Any]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def phash_hex(self) -> str:
        return f"{self.phash:016x}"


def perceptual_hash(image: Image.Image) -> int:
    return int(str(imagehash.phash(image)), 16)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def analyze(
    image: Image.Image, *, filename: str, ocr_text: str = "", exif: dict[str, Any] | None = None
) -> ImageAnalysis:
    """Labels, vector, safety score and perceptual hash of one image. Raises
    providers.vision.VisionError (and nothing else) when the image cannot be decoded or a
    model fails."""
    settings = get_settings()
    timings: dict[str, float] = {}
    try:
        rgb = image.convert("RGB")  # decodes a lazily opened image: it may be truncated
    except (OSError, SyntaxError, ValueError) as exc:
        raise VisionError(f"the image cannot be decoded: {exc}") from exc
    labeler, embedder, safety = get_image_labeler(), get_image_embedder(), get_safety_scorer()
    top_k = settings.image_label_top_k

    start = time.perf_counter()
    if isinstance(labeler, LabelingEmbedder) and labeler is embedder:  # one forward pass
        labels, vector = labeler.label_and_embed(rgb, top_k)
        timings["classifier_ms"] = (time.perf_counter() - start) * 1000
    else:
        labels = labeler.label(rgb, top_k) if labeler is not None else []
        timings["classifier_ms"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        vector = embedder.embed(rgb)
        timings["embedder_ms"] = (time.perf_counter() - start) * 1000

    start = time.perf_counter()
    nsfw = safety.nsfw(rgb) if safety is not None else None
    timings["nsfw_ms"] = (time.perf_counter() - start) * 1000

    start = time.perf_counter()
    phash = perceptual_hash(rgb)
    timings["phash_ms"] = (time.perf_counter() - start) * 1000

    floor = settings.image_label_min_confidence
    return ImageAnalysis(
        objects=[(name, round(p, 4)) for name, p in labels if p >= floor],
        vector=vector,
        model=embedder.model_name,
        dim=embedder.dim,
        labeler=f"{labeler.model_name}@{labeler.model_version}" if labeler else None,
        nsfw=round(nsfw, 4) if nsfw is not None else None,
        safety_model=f"{safety.model_name}@{safety.model_version}" if safety else None,
        phash=phash,
        filename=filename,
        ocr_text=ocr_text,
        exif=dict(exif or {}),
        timings_ms=timings,
    )


def description(analysis: ImageAnalysis) -> str:
    """The image's searchable description chunk: what it shows, the words in it, the camera
    and date, the file name. Plain sentences so both retrievers (BM25 and dense) find it."""
    lines = [f"Image: {analysis.filename}."]
    if analysis.objects:
        shown = ", ".join(name for name, _ in analysis.objects)
        lines.append(f"It shows: {shown}.")
    text = " ".join(analysis.ocr_text.split())
    if text:
        if len(text) > OCR_EXCERPT_CHARS:
            text = text[:OCR_EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"
        lines.append(f"Text in the image: {text}")
    camera = analysis.exif.get("camera")
    taken = analysis.exif.get("taken_at")
    if camera:
        lines.append(f"Camera: {camera}.")
    if taken:
        lines.append(f"Taken: {taken}.")
    return "\n".join(lines)

"""Vision providers, chosen once from configuration here; nothing else imports an
implementation. Each model is loaded lazily, once per process, under a lock (a worker's
threads may ask at the same time)."""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings, get_settings
from app.core.once import build_once
from app.providers.vision.base import (
    ImageEmbedder,
    ImageLabeler,
    LabelingEmbedder,
    SafetyScorer,
    VisionConfigError,
    VisionError,
)

__all__ = [
    "ImageEmbedder",
    "ImageLabeler",
    "LabelingEmbedder",
    "SafetyScorer",
    "VisionConfigError",
    "VisionError",
    "export_vision_model",
    "get_image_embedder",
    "get_image_labeler",
    "get_safety_scorer",
    "image_embedding_dim",
]

EFFICIENTNET_DIM = 1280  # efficientnet.DIM, known without importing onnxruntime


def export_vision_model(settings: Settings) -> Path | None:
    """Export the bundled classifier to ONNX once (`cairn export-model`); None when neither
    the labeler nor the embedder uses it."""
    if "efficientnet-lite0" not in (settings.image_labeler, settings.image_embedder):
        return None
    from app.providers.vision.efficientnet import export_onnx

    return export_onnx(settings.models_dir)


def image_embedding_dim(settings: Settings) -> int:
    """The image vector's dimension for the configured embedder, without loading it (migration
    0009 fixes the column's dimension with it)."""
    if settings.image_embedder == "efficientnet-lite0":
        return EFFICIENTNET_DIM
    path = settings.image_clip_image_model
    if path is None or not path.is_file():
        raise VisionConfigError("IMAGE_EMBEDDER=onnx-clip needs IMAGE_CLIP_IMAGE_MODEL (a file)")
    import onnx

    shape = onnx.load(str(path), load_external_data=False).graph.output[0].type.tensor_type
    return int(shape.shape.dim[-1].dim_value)


@build_once
def _efficientnet() -> LabelingEmbedder:
    from app.providers.vision.efficientnet import EfficientNetLite0

    return EfficientNetLite0(get_settings().models_dir)


def get_image_labeler() -> ImageLabeler | None:
    """The object labeler, or None with IMAGE_LABELER=none."""
    if get_settings().image_labeler == "none":
        return None
    return _efficientnet()


def get_image_embedder() -> ImageEmbedder:
    s = get_settings()
    if s.image_embedder == "efficientnet-lite0":
        return _efficientnet()

    return _onnx_clip()


@build_once
def _onnx_clip() -> ImageEmbedder:
    from app.providers.vision.clip_onnx import OnnxClipEmbedder

    s = get_settings()
    return OnnxClipEmbedder(
        s.image_clip_image_model,
        s.image_clip_text_model,
        s.image_clip_tokenizer,
        preprocess=s.image_clip_preprocess,
    )


def get_safety_scorer() -> SafetyScorer | None:
    """The NSFW scorer, or None with IMAGE_SAFETY=none."""
    if get_settings().image_safety == "none":
        return None

    return _open_nsfw()


@build_once
def _open_nsfw() -> SafetyScorer:
    from app.providers.vision.nsfw import OpenNsfw

    return OpenNsfw()

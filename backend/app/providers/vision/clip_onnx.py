"""A user's own CLIP/SigLIP-style model pair in ONNX, given by path: image and text into one
space, so a text query finds images directly (IMAGE_EMBEDDER=onnx-clip).

No package ships such weights (see README), so this is written against the ONNX interface
generically: the image graph takes one float tensor (N, 3, H, W) (H, W read from the graph;
224 when dynamic) and returns (N, D); the text graph takes `input_ids` (and `attention_mask`
if it has that input) of a fixed or dynamic length and returns (N, D). The tokenizer is a
Hugging Face `tokenizer.json`. Every vector is L2-normalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort
from PIL import Image
from tokenizers import Tokenizer

from app.providers.vision.base import ImageEmbedder, VisionConfigError, VisionError

NORMALISATION = {
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "siglip": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


def _session(path: Path | None, setting: str) -> ort.InferenceSession:
    if path is None:
        raise VisionConfigError(f"IMAGE_EMBEDDER=onnx-clip needs {setting} (a .onnx file)")
    if not path.is_file():
        raise VisionConfigError(f"{setting}={path} is not a file")
    try:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types
        raise VisionConfigError(f"{setting}={path} is not a loadable ONNX model: {exc}") from exc


def _static(value: object, default: int) -> int:
    return value if isinstance(value, int) and value > 0 else default


def _out_dim(session: ort.InferenceSession, setting: str) -> int:
    shape = session.get_outputs()[0].shape
    if len(shape) != 2 or not isinstance(shape[1], int):
        raise VisionConfigError(
            f"{setting}: the first output must be (batch, dim) with a fixed dim, got {shape}"
        )
    return shape[1]


class OnnxClipEmbedder(ImageEmbedder):
    def __init__(
        self,
        image_model: Path | None,
        text_model: Path | None,
        tokenizer: Path | None,
        *,
        preprocess: Literal["clip", "siglip"] = "clip",
    ) -> None:
        self.image = _session(image_model, "IMAGE_CLIP_IMAGE_MODEL")
        self.dim = _out_dim(self.image, "IMAGE_CLIP_IMAGE_MODEL")
        assert image_model is not None
        self.model_name = f"onnx-clip:{image_model.stem}"
        pixels = self.image.get_inputs()[0]
        if len(pixels.shape) != 4:
            raise VisionConfigError(
                f"IMAGE_CLIP_IMAGE_MODEL: the input must be (batch, 3, H, W), got {pixels.shape}"
            )
        self._pixels_name = pixels.name
        self.size = (_static(pixels.shape[2], 224), _static(pixels.shape[3], 224))
        mean, std = NORMALISATION[preprocess]
        self._mean = np.asarray(mean, dtype=np.float32)
        self._std = np.asarray(std, dtype=np.float32)
        self.text: ort.InferenceSession | None = None
        if text_model is None:
            return
        self.text = _session(text_model, "IMAGE_CLIP_TEXT_MODEL")
        if _out_dim(self.text, "IMAGE_CLIP_TEXT_MODEL") != self.dim:
            raise VisionConfigError("the text and image models give vectors of different sizes")
        names = {i.name: i for i in self.text.get_inputs()}
        if "input_ids" not in names or set(names) - {"input_ids", "attention_mask"}:
            raise VisionConfigError(
                f"IMAGE_CLIP_TEXT_MODEL: expected inputs input_ids[, attention_mask], got "
                f"{sorted(names)}"
            )
        if tokenizer is None or not tokenizer.is_file():
            raise VisionConfigError("IMAGE_CLIP_TOKENIZER must name a tokenizer.json file")
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:  # tokenizers raises its own types
            raise VisionConfigError(f"IMAGE_CLIP_TOKENIZER={tokenizer}: {exc}") from exc
        self._text_inputs = set(names)
        length = names["input_ids"].shape[1] if len(names["input_ids"].shape) == 2 else None
        self.context = _static(length, 77)
        pad_id = (self.tokenizer.padding or {}).get("pad_id", 0)
        self.tokenizer.enable_truncation(self.context)
        self.tokenizer.enable_padding(length=self.context, pad_id=pad_id)

    @property
    def supports_text(self) -> bool:
        return self.text is not None

    @staticmethod
    def _unit(vector: np.ndarray) -> list[float]:
        return [float(x) for x in vector / max(float(np.linalg.norm(vector)), 1e-12)]

    def embed(self, image: Image.Image) -> list[float]:
        try:
            rgb = image.convert("RGB").resize(self.size, Image.Resampling.BICUBIC)
            pixels = (np.asarray(rgb, dtype=np.float32) / 255.0 - self._mean) / self._std
            batch = np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])
            out = self.image.run(None, {self._pixels_name: batch})[0]
        except Exception as exc:  # PIL and onnxruntime raise their own types
            raise VisionError(f"{self.model_name} failed: {exc}") from exc
        return self._unit(np.asarray(out[0], dtype=np.float32))

    def embed_text(self, text: str) -> list[float]:
        if self.text is None:
            raise VisionConfigError(
                "text-to-image search needs IMAGE_CLIP_TEXT_MODEL and IMAGE_CLIP_TOKENIZER"
            )
        enc = self.tokenizer.encode(text)
        feeds = {"input_ids": np.asarray([enc.ids], dtype=np.int64)}
        if "attention_mask" in self._text_inputs:
            feeds["attention_mask"] = np.asarray([enc.attention_mask], dtype=np.int64)
        try:
            out = self.text.run(None, feeds)[0]
        except Exception as exc:  # onnxruntime raises its own types
            raise VisionError(f"{self.model_name} text model failed: {exc}") from exc
        return self._unit(np.asarray(out[0], dtype=np.float32))

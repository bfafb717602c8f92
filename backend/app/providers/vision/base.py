"""Vision provider interfaces: what a picture shows, a vector for similar pictures, safety.

Vectors are L2-normalised so cosine similarity == dot product (like the text embedder's).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from PIL import Image


class VisionError(Exception):
    """A vision model failed on an image (or could not be loaded)."""


class VisionConfigError(VisionError):
    """The configuration names a model that cannot be used (missing file, wrong format)."""


class ImageLabeler(ABC):
    #: stored with every label, so a change of model is visible
    model_name: str
    model_version: str

    @abstractmethod
    def label(self, image: Image.Image, top_k: int) -> list[tuple[str, float]]:
        """The `top_k` most likely readable class names with their probabilities."""


class ImageEmbedder(ABC):
    #: stored with every image vector; only vectors of the same model are compared
    model_name: str
    dim: int

    @abstractmethod
    def embed(self, image: Image.Image) -> list[float]:
        """A unit vector of `dim` floats."""

    @property
    def supports_text(self) -> bool:
        """True when `embed_text` maps text into the same space (CLIP-style models)."""
        return False

    def embed_text(self, text: str) -> list[float]:
        raise VisionConfigError(
            f"the image embedder {self.model_name!r} cannot embed text; configure "
            "IMAGE_EMBEDDER=onnx-clip with an image+text model pair for text-to-image search"
        )


class LabelingEmbedder(ImageLabeler, ImageEmbedder):
    """One model that both labels and embeds (a classifier): one forward pass for both."""

    @abstractmethod
    def label_and_embed(
        self, image: Image.Image, top_k: int
    ) -> tuple[list[tuple[str, float]], list[float]]: ...


class SafetyScorer(ABC):
    model_name: str
    model_version: str

    @abstractmethod
    def nsfw(self, image: Image.Image) -> float:
        """Probability in [0, 1] that the image is not safe for work."""

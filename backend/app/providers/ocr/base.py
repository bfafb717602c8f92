"""The OCR interface: pixels in, lines of text with their boxes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image


class OcrError(Exception):
    """The engine could not read the image (a broken model file, an unusable image)."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    # Four corners, clockwise from top-left, in pixels of the image given to read().
    box: list[list[float]]
    score: float


@dataclass(frozen=True)
class OcrResult:
    lines: list[OcrLine]
    ms: float


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image.Image) -> OcrResult:
        """The text lines of an RGB image, in reading order (may be none)."""
        ...

"""Real photographs shipped in scikit-image's wheel, and copies of them for the image tests."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image

CAT_CLASSES = {"tabby cat", "tiger cat", "Persian cat", "Siamese cat", "Egyptian Mau"}


@cache
def photo(name: str) -> Image.Image:
    """skimage.data.<name>(): chelsea (a cat), coffee (a cup), rocket, astronaut."""
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def cropped(image: Image.Image, margin: float = 0.05) -> Image.Image:
    """A slightly cropped copy (5% off each side)."""
    w, h = image.size
    dx, dy = int(w * margin), int(h * margin)
    return image.crop((dx, dy, w - dx, h - dy))


def reencoded(image: Image.Image) -> Image.Image:
    """A resized (half size), JPEG re-encoded copy: a near-duplicate."""
    buf = io.BytesIO()
    image.resize((image.width // 2, image.height // 2)).save(buf, "JPEG", quality=70)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()

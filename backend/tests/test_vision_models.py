"""The vision models on real photographs (scikit-image): labels, vectors, safety, hashes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.image_fixtures import CAT_CLASSES, cropped, photo, reencoded


def _analyze(image: Image.Image, name: str = "photo.png") -> object:
    from app.images.analysis import analyze

    return analyze(image, filename=name)


def test_the_cat_photo_gets_a_cat_label_and_the_cup_a_coffee_label() -> None:
    from app.images.analysis import ImageAnalysis

    cat = _analyze(photo("chelsea"))
    cup = _analyze(photo("coffee"))
    assert isinstance(cat, ImageAnalysis) and isinstance(cup, ImageAnalysis)
    assert {name for name, _ in cat.objects[:3]} & CAT_CLASSES, cat.objects
    assert cup.objects[0][0] in {"espresso", "cup", "coffee mug"}, cup.objects
    assert cat.labeler == "efficientnet-lite0@imagenet1k-57934424"
    assert all(0 <= p <= 1 for _, p in cat.objects)


def test_a_cropped_copy_is_nearer_to_the_cat_than_the_coffee_cup() -> None:
    cat, crop, cup = (_analyze(i) for i in (photo("chelsea"), cropped(photo("chelsea")),
                                            photo("coffee")))
    vectors = [np.asarray(a.vector) for a in (cat, crop, cup)]  # type: ignore[attr-defined]
    assert all(v.shape == (1280,) and abs(np.linalg.norm(v) - 1) < 1e-4 for v in vectors)
    assert vectors[0] @ vectors[1] > 0.9 > vectors[0] @ vectors[2]


def test_the_cat_photo_is_safe() -> None:
    cat = _analyze(photo("chelsea"))
    assert cat.nsfw is not None and cat.nsfw < 0.2  # type: ignore[attr-defined]


def test_a_resized_reencoded_copy_is_a_near_duplicate_and_another_photo_is_not() -> None:
    from app.core.config import get_settings
    from app.images.analysis import hamming, perceptual_hash

    limit = get_settings().image_near_dup_distance
    cat = perceptual_hash(photo("chelsea"))
    assert hamming(cat, perceptual_hash(reencoded(photo("chelsea")))) <= limit
    for other in ("coffee", "rocket", "astronaut"):
        assert hamming(cat, perceptual_hash(photo(other))) > limit, other


def test_the_description_reads_labels_ocr_text_camera_and_filename() -> None:
    from app.images.analysis import analyze, description

    text = description(analyze(photo("chelsea"), filename="chelsea.jpg",
                               ocr_text="WELCOME  HOME\nmat", exif={"camera": "Canon EOS",
                                                                  "taken_at": "2024-05-01"}))
    assert "chelsea.jpg" in text and "WELCOME HOME mat" in text
    assert "Canon EOS" in text and "2024-05-01" in text
    assert any(name in text for name in CAT_CLASSES)


def test_odd_image_modes_and_tiny_images_are_analysed() -> None:
    """Palette, greyscale, alpha and 1x1 images go through every model without error."""
    for image in (photo("chelsea").convert("P"), photo("chelsea").convert("L"),
                  photo("chelsea").convert("RGBA"), Image.new("RGB", (1, 1), "red")):
        analysis = _analyze(image)
        assert len(analysis.vector) == 1280  # type: ignore[attr-defined]


def test_the_bundled_embedder_refuses_text_queries_clearly() -> None:
    from app.providers.vision import VisionConfigError, get_image_embedder

    embedder = get_image_embedder()
    assert not embedder.supports_text
    with pytest.raises(VisionConfigError, match="onnx-clip"):
        embedder.embed_text("a cat")


def test_each_model_is_loaded_once_even_when_threads_ask_together() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app.providers.vision import get_image_embedder, get_image_labeler, get_safety_scorer

    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda _: (get_image_labeler(), get_image_embedder(),
                                       get_safety_scorer()), range(12)))
    assert len({id(x) for triple in got for x in triple[:2]}) == 1  # one classifier for both
    assert len({id(triple[2]) for triple in got}) == 1


def test_a_long_ocr_text_is_cut_to_an_excerpt_in_the_description() -> None:
    from app.images.analysis import OCR_EXCERPT_CHARS, analyze, description

    text = description(analyze(photo("coffee"), filename="menu.png",
                               ocr_text="espresso latte " * 200))
    assert len(text) < OCR_EXCERPT_CHARS + 200 and text.rstrip().endswith("…")


def test_a_truncated_image_is_a_vision_error_from_every_model_and_from_analyze() -> None:
    import io

    from app.images.analysis import analyze
    from app.providers.vision import VisionError, get_image_labeler, get_safety_scorer
    from tests.image_fixtures import png_bytes

    def truncated() -> Image.Image:
        return Image.open(io.BytesIO(png_bytes(photo("coffee"))[:2000]))

    labeler, safety = get_image_labeler(), get_safety_scorer()
    assert labeler is not None and safety is not None
    with pytest.raises(VisionError):
        labeler.label(truncated(), 5)
    with pytest.raises(VisionError):
        safety.nsfw(truncated())
    with pytest.raises(VisionError, match="cannot be decoded"):
        analyze(truncated(), filename="broken.png")


def test_an_extreme_sliver_is_analysed_without_blowing_up_memory() -> None:
    """A 1 x 100,000 picture: resizing its short side to 256 before cropping would allocate a
    256 x 25,600,000 image (the worker was OOM-killed); the centre square is cropped first."""
    import resource

    from app.images.analysis import analyze

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sliver = Image.new("RGB", (1, 100_000), (120, 80, 40))
    result = analyze(sliver, filename="sliver.png")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(result.vector) == result.dim and grown_mb < 300, grown_mb

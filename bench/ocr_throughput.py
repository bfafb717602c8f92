"""OCR throughput on this machine: images/s and scanned PDF pages/s through the worker's parse
path (decode, EXIF, thumbnail, OCR; for PDFs pypdf, pypdfium2 rendering and OCR), in this
process, one at a time (the worker's concurrency is one task per process).

    python bench/ocr_throughput.py [--images 8] [--pages 4]

Inputs are made here: a receipt-like 900x300 PNG with rendered text, scikit-image's cat photo
(chelsea, no text) and its scanned book page (page) as a multi-page image-only PDF. Prints
the load average before and after: the machine is shared, read the figures with it.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))


def _receipt() -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (900, 300), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=34)
    for i, line in enumerate(["ACME HARDWARE  receipt 0042", "2 x hinge brass   7.90",
                              "TOTAL EUR 15.80 paid by card"]):
        draw.text((30, 30 + 85 * i), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _photo() -> bytes:
    from PIL import Image
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _scan_pdf(pages: int) -> bytes:
    from PIL import Image
    from skimage import data

    page = Image.fromarray(data.page()).convert("RGB")
    page = page.resize((page.width * 3, page.height * 3))  # about a 200 dpi scan of a column
    buf = io.BytesIO()
    page.save(buf, "PDF", save_all=True, append_images=[page] * (pages - 1), resolution=200.0)
    return buf.getvalue()


def _time(label: str, data: bytes, content_type: str, runs: int) -> list[float]:
    from app.ingest.parsers import parse

    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        parsed = parse(data, content_type)
        seconds.append(time.perf_counter() - start)
    print(f"  {label}: {runs} runs, median {statistics.median(seconds):.2f} s, "
          f"text {len(parsed.text)} chars, timings {parsed.timings}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("PDF_OCR_MAX_PAGES", str(max(args.pages, 1)))
    from app.providers.ocr import get_ocr

    print(f"load average at start: {os.getloadavg()}")
    start = time.perf_counter()
    from PIL import Image

    get_ocr().read(Image.new("RGB", (64, 64), "white"))  # load the models once
    print(f"OCR engine {get_ocr().name} loaded in {time.perf_counter() - start:.2f} s")
    receipt = _time("receipt 900x300 PNG", _receipt(), "image/png", args.images)
    photo = _time("cat photo 451x300 JPEG", _photo(), "image/jpeg", args.images)
    pdf = _time(f"scanned PDF, {args.pages} pages", _scan_pdf(args.pages), "application/pdf", 1)
    print(f"images/s (text):   {len(receipt) / sum(receipt):.2f}")
    print(f"images/s (photo):  {len(photo) / sum(photo):.2f}")
    print(f"scanned pages/s:   {args.pages / sum(pdf):.2f}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

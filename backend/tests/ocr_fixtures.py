"""Small images for the image tests, made here (Pillow, reportlab) or taken from
scikit-image's bundled photographs (`page()` is a scanned book page)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw, ImageFont


def text_image(lines: list[str], fmt: str = "PNG", size: tuple[int, int] = (520, 130),
               **save: object) -> bytes:
    """Black text on white in Pillow's bundled TrueType font (DejaVu Sans)."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=30)
    for i, line in enumerate(lines):
        draw.text((16, 14 + 50 * i), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def exif_jpeg(lines: list[str]) -> bytes:
    """A JPEG with text and EXIF: camera, taken-at and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif[0x0112] = 1
    exif.get_ifd(0x8769)[0x9003] = "2024:05:06 07:08:09"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 30.0, 0.0), "W", (1.0, 15.0, 0.0)
    return text_image(lines, "JPEG", exif=exif, quality=90)


def page_image() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.page())


def page_png() -> bytes:
    buf = io.BytesIO()
    page_image().save(buf, "PNG")
    return buf.getvalue()


def page_pdf_image_only() -> bytes:
    """A scanned PDF: the page as an image, no text layer (Pillow's PDF writer)."""
    buf = io.BytesIO()
    page_image().convert("RGB").save(buf, "PDF", resolution=72.0)
    return buf.getvalue()


def mixed_pdf(text: str) -> bytes:
    """Page 1 born-digital text (reportlab), page 2 the scanned page as an image."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.drawString(40, 800, text)
    pdf.showPage()
    page = page_image()
    pdf.drawImage(ImageReader(page), 40, 400, width=page.width * 1.5, height=page.height * 1.5)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (a decompression bomb's header)."""
    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = data[12:29]  # b"IHDR" + 13 bytes of header
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


def two_frame_gif(first: list[str]) -> bytes:
    frames = [Image.open(io.BytesIO(text_image(first))).convert("P"),
              Image.new("P", (520, 130), 0)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


def icon() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, "ICO")
    return buf.getvalue()

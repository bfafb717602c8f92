"""Builders of hostile uploads, and what Cairn must answer to each.

Every file here is made by code (nothing is downloaded or checked in). A case either is refused
at upload with a clear 4xx JSON error (`reject`), or is accepted and must end `failed` with a
reason or `ready` (`ingest`) — never a 500, a hung worker, an orphan object or a half-written
document. The tests that use these are tests/test_hostile_uploads.py.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tests.conftest import make_docx, make_pdf

Files = list[tuple[str, bytes]]

TEXT = b"Hostile corpus control text about glaciers carving fjords over many thousand years.\n"


# --- builders ------------------------------------------------------------------------------


def multipart(
    files: Files, fields: dict[str, str] | None = None, boundary: str = "cairnhostileXYZ"
) -> tuple[bytes, str]:
    """A multipart/form-data body written byte for byte (filenames are not escaped)."""
    out = io.BytesIO()
    for name, value in (fields or {}).items():
        out.write(f"--{boundary}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for filename, content in files:
        out.write(f"--{boundary}\r\n".encode())
        out.write(b'Content-Disposition: form-data; name="files"; filename="')
        out.write(filename.encode("utf-8", "surrogateescape") + b'"\r\n')
        out.write(b"Content-Type: application/octet-stream\r\n\r\n")
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def elf_executable() -> bytes:
    header = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1)
    return header + b"\x00" * 40 + bytes(range(256)) * 8


def pe_executable() -> bytes:
    dos = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44
    dos += struct.pack("<I", 64)  # e_lfanew
    return dos + b"PE\x00\x00" + struct.pack("<H", 0x8664) + bytes(range(256)) * 8


def gzip_blob() -> bytes:
    import gzip

    return gzip.compress(TEXT * 100)


def real_pdf(
    text: str = "Hostile corpus PDF about volcanic islands and their basalt columns.",
) -> bytes:
    return make_pdf([text, text + " Second page."])


def corrupt_pdf() -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage"
        + bytes(range(256)) * 16
    )


def truncated_pdf() -> bytes:
    whole = make_pdf(["Truncated PDF text " * 40] * 3)
    return whole[: len(whole) // 3]


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(real_pdf())))
    writer.encrypt("correct horse battery staple")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def many_pages_pdf(pages: int = 2500) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def blank_pdf() -> bytes:
    return many_pages_pdf(1)


def _docx_with_document_xml(document_xml: bytes) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(make_docx(["placeholder"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in base.infolist():
            data = (
                document_xml if info.filename == "word/document.xml" else base.read(info.filename)
            )
            zf.writestr(info.filename, data)
    return out.getvalue()


def _document_xml(body_text: str, doctype: str = "") -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return (
        f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>{doctype}"
        f'<w:document xmlns:w="{ns}"><w:body><w:p><w:r><w:t>{body_text}</w:t></w:r></w:p>'
        "</w:body></w:document>"
    ).encode()


def docx_zip_bomb(expanded_bytes: int = 40 * 1024 * 1024) -> bytes:
    """A valid DOCX whose document.xml inflates ~1000x (whitespace compresses to nothing)."""
    ns = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    padding = b" " * expanded_bytes
    xml = b'<?xml version="1.0"?><w:document xmlns:w="' + ns + b'"><w:body>' + padding
    xml += b"<w:p><w:r><w:t>bomb</w:t></w:r></w:p></w:body></w:document>"
    return _docx_with_document_xml(xml)


def docx_billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    return _docx_with_document_xml(_document_xml("&lol9;", f"<!DOCTYPE lolz [{entities}]>"))


def docx_external_entity() -> bytes:
    doctype = '<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return _docx_with_document_xml(
        _document_xml("Readable paragraph about tidal pools. &xxe; More tidal pool text.", doctype)
    )


def docx_broken_xml() -> bytes:
    return _docx_with_document_xml(b"<?xml version='1.0'?><w:document><w:body><w:p>")


def zip_not_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("notes.txt", TEXT)
    return out.getvalue()


def html_billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    page = f"<!DOCTYPE html [{entities}]><html><body><p>Laughing page. &lol9;</p></body></html>"
    return page.encode()


def html_deep_nesting(depth: int = 200_000) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"Deeply nested meadow text." + b"</div>" * 10


def _png(width: int, height: int, idat: bytes, color_type: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_decompression_bomb() -> bytes:
    """Claims 60000x60000 pixels; its IDAT inflates to gigabytes of zeros."""
    zeros = zlib.compressobj(9)
    row = b"\x00" * 60001
    idat = b"".join(zeros.compress(row) for _ in range(300)) + zeros.flush()
    return _png(60000, 60000, idat)


def png_tall() -> bytes:
    rows = b"\x00\x00" * 100_000  # filter byte + one grey pixel per row
    return _png(1, 100_000, zlib.compress(rows, 9))


def invalid_utf8_text() -> bytes:
    return b"Invalid bytes \xff\xfe\xfd among words about lichen \xc3\x28 and moss \x80\x81. " * 40


def utf16_text() -> bytes:
    return ("UTF-16 text about migrating cranes and wetlands. " * 20).encode("utf-16")


def svg_with_external_entity() -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>Vector art of pine cones &xxe;</text></svg>'
    )


# --- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadCase:
    id: str
    build: Callable[[], Files]
    expect: Literal["reject", "ingest"]
    status: int = 0  # reject: the HTTP status
    code: str | None = None  # reject: the error code
    final: tuple[str, ...] = ("failed",)  # ingest: allowed final statuses
    reason: str | None = None  # failed: a word the reason must contain
    stored_name: str | None = None  # ingest: the cleaned display name
    content_type: str | None = None  # ingest: the sniffed type
    absent: tuple[str, ...] = field(default=())  # ingest: text no chunk may contain


def _one(name: str, build: Callable[[], bytes]) -> Callable[[], Files]:
    return lambda: [(name, build())]


PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ANY = ("ready", "failed")

CASES: list[UploadCase] = [
    # --- the bytes decide the type, never the name
    UploadCase("empty-file", _one("empty.txt", lambda: b""), "reject", 422, "empty_file"),
    UploadCase("elf-renamed-pdf", _one("invoice.pdf", elf_executable), "reject", 415),
    UploadCase("pe-renamed-pdf", _one("report.pdf", pe_executable), "reject", 415),
    UploadCase("pe-renamed-txt", _one("readme.txt", pe_executable), "reject", 415),
    UploadCase("gzip-renamed-txt", _one("notes.txt", gzip_blob), "reject", 415),
    UploadCase(
        "nul-bytes-text", _one("nul.txt", lambda: TEXT + b"\x00\x01\x02" * 50), "reject", 415
    ),
    UploadCase("zip-not-docx", _one("letter.docx", zip_not_docx), "reject", 415),
    UploadCase("png-decompression-bomb", _one("bomb.png", png_decompression_bomb), "reject", 422,
               "image_too_large"),
    UploadCase("png-1x100000", _one("tall.png", png_tall), "ingest", final=("ready",),
               content_type="image/png"),
    UploadCase("png-renamed-pdf", _one("scan.pdf", png_tall), "ingest", final=("ready",),
               content_type="image/png"),
    UploadCase(
        "pdf-named-txt", _one("paper.txt", real_pdf), "ingest", final=("ready",), content_type=PDF
    ),
    UploadCase(
        "text-named-pdf",
        _one("notes.pdf", lambda: TEXT * 3),
        "ingest",
        final=("ready",),
        content_type="text/plain",
    ),
    UploadCase(
        "html-named-docx",
        _one("page.docx", lambda: b"<html><body><p>HTML about lighthouses.</p></body></html>"),
        "ingest",
        final=("ready",),
        content_type="text/html",
    ),
    UploadCase(
        "docx-named-txt",
        _one("doc.txt", lambda: make_docx(["A DOCX about orchards and pollination."])),
        "ingest",
        final=("ready",),
        content_type=DOCX,
    ),
    # --- broken and hostile documents end failed with a reason
    UploadCase("corrupt-pdf", _one("corrupt.pdf", corrupt_pdf), "ingest", reason="PDF"),
    UploadCase("truncated-pdf", _one("truncated.pdf", truncated_pdf), "ingest", final=ANY),
    UploadCase("encrypted-pdf", _one("secret.pdf", encrypted_pdf), "ingest", reason="encrypted"),
    UploadCase("pdf-2500-pages", _one("huge.pdf", many_pages_pdf), "ingest", reason="pages"),
    UploadCase("pdf-without-text", _one("blank.pdf", blank_pdf), "ingest", reason="No text"),
    UploadCase("docx-zip-bomb", _one("bomb.docx", docx_zip_bomb), "ingest", reason="bomb"),
    UploadCase(
        "docx-billion-laughs", _one("lol.docx", docx_billion_laughs), "ingest", reason="DOCX"
    ),
    UploadCase(
        "docx-external-entity",
        _one("xxe.docx", docx_external_entity),
        "ingest",
        final=ANY,
        absent=("root:",),
    ),
    UploadCase("docx-broken-xml", _one("broken.docx", docx_broken_xml), "ingest", reason="DOCX"),
    UploadCase(
        "html-billion-laughs",
        _one("lol.html", html_billion_laughs),
        "ingest",
        final=ANY,
        absent=("lollollollollol",),
    ),
    UploadCase(
        "html-200k-nested-divs", _one("deep.html", html_deep_nesting), "ingest", final=("ready",)
    ),
    UploadCase(
        "svg-external-entity",
        _one("art.svg", svg_with_external_entity),
        "ingest",
        final=ANY,
        absent=("root:",),
    ),
    UploadCase(
        "whitespace-only-text",
        _one("blank.txt", lambda: b" \n\t \r\n" * 200),
        "ingest",
        reason="No text",
    ),
    UploadCase(
        "invalid-utf8-text",
        _one("mixed.txt", invalid_utf8_text),
        "ingest",
        final=("ready",),
        content_type="text/plain",
    ),
    UploadCase("utf16-text", _one("wide.txt", utf16_text), "ingest", final=("ready",)),
    # --- filenames: no path, no control characters, bounded length
    UploadCase(
        "path-traversal-name",
        _one("../../../../etc/passwd.txt", lambda: TEXT + b"traversal"),
        "ingest",
        final=("ready",),
        stored_name="passwd.txt",
    ),
    UploadCase(
        "windows-path-name",
        _one("..\\..\\Windows\\System32\\evil.txt", lambda: TEXT + b"win"),
        "ingest",
        final=("ready",),
        stored_name="evil.txt",
    ),
    UploadCase(
        "control-chars-name",
        _one("bad\x01\x02\x1b[31mname\x7f\t.txt", lambda: TEXT + b"ctl"),
        "ingest",
        final=("ready",),
        stored_name="bad[31mname.txt",
    ),
    UploadCase(
        "rtl-override-name",
        _one("\u202etxt.exe", lambda: TEXT + b"rtl"),
        "ingest",
        final=("ready",),
        stored_name="txt.exe",
    ),
    UploadCase(
        "dots-only-name",
        _one("..", lambda: TEXT + b"dots"),
        "ingest",
        final=("ready",),
        stored_name="unnamed",
    ),
    UploadCase(
        "hidden-file-name",
        _one(".htaccess", lambda: TEXT + b"hidden"),
        "ingest",
        final=("ready",),
        stored_name="htaccess",
    ),
    UploadCase(
        "2000-char-name",
        _one("n" * 2000 + ".txt", lambda: TEXT + b"long"),
        "ingest",
        final=("ready",),
        stored_name="n" * 255,
    ),
    # a part header past the multipart parser's 4 KB line limit is a malformed request
    UploadCase(
        "10000-char-name",
        _one("m" * 10_000 + ".txt", lambda: TEXT + b"longer"),
        "reject",
        400,
        "bad_request",
    ),
]

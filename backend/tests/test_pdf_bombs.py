"""PDF bombs (issue 7, item 9): a ~1 MB PDF whose content stream inflates to 1 GiB is refused
with a plain reason, fast and with bounded memory, and the worker keeps working after it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from app.ingest.parsers import MAX_PDF_STREAM_BYTES, ParseError, parse
from tests.conftest import make_pdf, upload, wait_for_documents

BACKEND = Path(__file__).resolve().parents[1]
EXPANDED = 1024**3  # what the bomb's one content stream inflates to
BLOCK = 16 * 1024 * 1024


def _deflated_spaces(total: int) -> bytes:
    """`total` bytes of a text-drawing content stream, deflated block by block (the expansion
    is never held in memory)."""
    compressor = zlib.compressobj(9)
    out = [compressor.compress(b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n")]
    block = b" " * BLOCK
    left = total
    while left > 0:
        out.append(compressor.compress(block[: min(BLOCK, left)]))
        left -= BLOCK
    out.append(compressor.flush())
    return b"".join(out)


def pdf_with_stream(stream: bytes, filters: bytes = b"/Filter /FlateDecode") -> bytes:
    """A one-page PDF with this content stream, and a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d %s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = pdf_with_stream(_deflated_spaces(EXPANDED))
    assert len(data) < 2 * 1024 * 1024  # ~1 MB on disk, 1 GiB inflated
    return data


def test_parse_refuses_a_pdf_bomb_quickly_with_a_plain_reason(bomb: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(ParseError, match=r"expands past \d+ MB"):
        parse(bomb, "application/pdf")
    assert time.monotonic() - started < 10


def test_parsing_a_pdf_bomb_keeps_memory_bounded(bomb: bytes, tmp_path: Path) -> None:
    """In a child process limited to 1.5 GB of address space: a parser that inflated the
    stream would die with MemoryError; this one refuses it and peaks far lower."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    script = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))
from app.ingest.parsers import MAX_PDF_STREAM_BYTES, ParseError, parse
data = open({str(path)!r}, "rb").read()
try:
    parse(data, "application/pdf")
    outcome = "parsed"
except ParseError as exc:
    outcome = "ParseError: " + str(exc)
except MemoryError:
    outcome = "MemoryError"
# VmHWM is this process image's own peak; ru_maxrss would carry over the peak of the
# (large) pytest process that forked it, since Linux keeps it across exec.
try:
    status = open("/proc/self/status").read()
    peak = next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmHWM:")) // 1024
except OSError:  # macOS: no /proc; ru_maxrss is in bytes there
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 * 1024)
print(json.dumps({{"outcome": outcome, "peak_mb": peak}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=BACKEND, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"].startswith("ParseError: The PDF expands past"), result
    assert result["peak_mb"] < 400, result


def test_a_pdf_whose_stream_inflates_just_past_the_limit_is_refused() -> None:
    data = pdf_with_stream(_deflated_spaces(MAX_PDF_STREAM_BYTES + BLOCK))
    with pytest.raises(ParseError, match="expands past"):
        parse(data, "application/pdf")


def test_a_normal_pdf_with_a_large_text_stream_still_parses() -> None:
    line = b"BT /F1 10 Tf 40 700 Td (Cairn keeps this text) Tj ET\n"
    stream = zlib.compress(line * (4 * 1024 * 1024 // len(line)))  # 4 MB inflated
    parsed = parse(pdf_with_stream(stream), "application/pdf")
    assert "Cairn keeps this text" in parsed.text


def test_an_uploaded_pdf_bomb_fails_cleanly_and_the_worker_keeps_working(
    client: Any, collection_name: str, bomb: bytes
) -> None:
    resp = upload(client, [("bomb.pdf", bomb)], collection=collection_name)
    assert resp.status_code == 202, resp.text
    bomb_id = resp.json()["documents"][0]["id"]
    final = wait_for_documents(client, [bomb_id], timeout=120)[bomb_id]
    assert final["status"] == "failed", final
    assert "expands past" in json.dumps(final), final
    assert "LimitReachedError" not in json.dumps(final)
    resp = upload(client, [("after.pdf", make_pdf(["The worker survived the bomb."]))],
                  collection=collection_name)
    assert resp.status_code == 202, resp.text
    after_id = resp.json()["documents"][0]["id"]
    after = wait_for_documents(client, [after_id], timeout=120)[after_id]
    assert after["status"] == "ready", after

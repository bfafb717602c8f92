"""PDFium is not thread-safe, not even across documents, and the ingest worker's threads pool
completes several PDFs at once (thumbnails, page renders for OCR). Every pdfium call runs
under app.ingest.scanned.PDFIUM_LOCK; OCR, the slow part, runs outside it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.ingest import scanned
from app.ingest.parsers import ParsedDocument, ParseError, Segment, parse
from tests import ocr_fixtures as fx
from tests.conftest import make_pdf

BACKEND = Path(__file__).resolve().parents[1]

# Four threads completing PDFs at once, each thumbnail compared with the one made alone.
# Without the lock this process died of heap corruption (`free(): invalid pointer`,
# `double free or corruption`) in three runs out of three of 4 x 40 PDFs.
RACE = textwrap.dedent("""
    import hashlib, sys, threading
    from app.ingest.parsers import parse
    from tests.conftest import make_pdf

    pdfs = [make_pdf([f"Page {p} of document {d}. " * 40 for p in range(1, 4)])
            for d in range(6)]
    alone = [hashlib.sha256(parse(b, "application/pdf", "a.pdf").thumbnail).hexdigest()
             for b in pdfs]
    wrong = []

    def work(i):
        for r in range(25):
            k = (i + r) % len(pdfs)
            got = parse(pdfs[k], "application/pdf", "a.pdf").thumbnail
            if hashlib.sha256(got).hexdigest() != alone[k]:
                wrong.append(k)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("wrong", len(wrong))
""")


def test_pdfs_completed_by_several_threads_at_once_keep_the_process_alive() -> None:
    done = subprocess.run([sys.executable, "-c", RACE], cwd=BACKEND, capture_output=True,
                          text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip().splitlines()[-1] == "wrong 0", done.stdout


def test_ocr_of_a_scanned_page_runs_outside_the_pdfium_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real OCR engine, asked while checking that no pdfium work is held up by it."""
    engine = scanned.get_ocr()
    held: list[bool] = []

    class Watching:
        def read(self, image: Any) -> Any:
            held.append(scanned.PDFIUM_LOCK.locked())
            return engine.read(image)

    monkeypatch.setattr(scanned, "get_ocr", Watching)
    parsed = parse(fx.mixed_pdf("Born digital words on page one."), "application/pdf", "m.pdf")
    assert held == [False], "OCR ran once, with the lock free"
    assert [p["source"] for p in parsed.pages or []] == ["text_layer", "ocr"]
    assert not scanned.PDFIUM_LOCK.locked()


def test_a_page_pdfium_cannot_load_fails_the_parse_and_frees_the_lock() -> None:
    one_page = make_pdf([""])
    claims_page_five = ParsedDocument([Segment("", page=5)], page_count=5)
    with pytest.raises(ParseError, match="could not be rendered"):
        scanned.complete_pdf(one_page, claims_page_five)
    assert not scanned.PDFIUM_LOCK.locked()
    after = parse(make_pdf(["Still parsed after the failure."]), "application/pdf", "b.pdf")
    assert after.thumbnail and "Still parsed" in after.text


def test_a_pdf_pdfium_cannot_open_keeps_its_text_layer_and_frees_the_lock() -> None:
    text_layer = ParsedDocument([Segment("Words pypdf read.", page=1)], page_count=1)
    out = scanned.complete_pdf(b"%PDF-1.4 not a body pdfium can read", text_layer)
    assert out.thumbnail is None
    assert out.pages == [{"page": 1, "source": "text_layer"}]
    assert not scanned.PDFIUM_LOCK.locked()

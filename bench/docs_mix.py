"""Corpora for bench_ingest.py: SciFact abstracts from a BEIR folder, and a synthetic mix of
larger PDFs (reportlab) and DOCX files (python-docx), built from bench/corpus.py's sentences
with a fixed seed. Every item carries the title the parser will read (PDF metadata title,
DOCX core title, a text file's first line), so the raw embedder gets exactly the strings the
pipeline embeds (title put back in front of later chunks)."""

from __future__ import annotations

import io
import random
import textwrap
from pathlib import Path

from corpus import TOPICS, SyntheticDoc, _sentence

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def scifact(folder: Path, count: int) -> list[SyntheticDoc]:
    """The first `count` abstracts of a BEIR corpus, as the `.txt` files `cairn eval` uploads
    (title, blank line, text)."""
    from app.eval.dataset import find_file, load_corpus

    corpus = load_corpus(find_file(folder, ["corpus.jsonl", "corpus.jsonl.gz"], "corpus"))
    docs = []
    for d in corpus[:count]:
        text = d.content()
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        docs.append(SyntheticDoc(f"{d.id}.txt", first[:200], text))
    return docs


def _paragraphs(rng: random.Random, words: int) -> list[str]:
    vocab = TOPICS[rng.choice(sorted(TOPICS))]
    out: list[str] = []
    total = 0
    while total < words:
        para = " ".join(_sentence(rng, vocab) for _ in range(rng.randint(4, 8)))
        out.append(para)
        total += len(para.split())
    return out


def pdf_bytes(title: str, pages: list[list[str]]) -> bytes:
    """A text PDF: one list of paragraphs per page, Helvetica 10 pt, wrapped at 95 chars."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    pdf.setTitle(title)
    _, height = A4
    for paragraphs in pages:
        text = pdf.beginText(40, height - 50)
        text.setFont("Helvetica", 10)
        for para in paragraphs:
            for line in textwrap.wrap(para, 95):
                text.textLine(line)
            text.textLine("")
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def docx_bytes(title: str, paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for para in paragraphs:
        document.add_paragraph(para)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


class BinaryDoc(SyntheticDoc):
    """A generated file: bytes and content type besides the title."""

    def __init__(self, filename: str, title: str, data: bytes, content_type: str) -> None:
        super().__init__(filename, title, "")
        self._data = data
        self.content_type = content_type

    @property
    def data(self) -> bytes:
        return self._data


def mix(pdfs: int, docx_files: int, seed: int) -> list[SyntheticDoc]:
    """`pdfs` PDFs of 4-12 pages (~350 words a page) and `docx_files` DOCX of 1,500-4,000
    words, interleaved."""
    rng = random.Random(seed)
    docs: list[SyntheticDoc] = []
    for i in range(max(pdfs, docx_files)):
        if i < pdfs:
            title = f"Synthetic report {i + 1:03d}"
            pages = [_paragraphs(rng, 350) for _ in range(rng.randint(4, 12))]
            docs.append(BinaryDoc(f"mix-{i + 1:03d}.pdf", title, pdf_bytes(title, pages), PDF))
        if i < docx_files:
            title = f"Synthetic memo {i + 1:03d}"
            body = _paragraphs(rng, rng.randint(1500, 4000))
            docs.append(BinaryDoc(f"mix-{i + 1:03d}.docx", title, docx_bytes(title, body), DOCX))
    return docs


def big_pdf(pages: int, seed: int) -> BinaryDoc:
    """One PDF of `pages` pages of ~650 words each (about 5 chunks a page)."""
    rng = random.Random(seed)
    title = f"Big synthetic manual of {pages} pages"
    data = pdf_bytes(title, [_paragraphs(rng, 650) for _ in range(pages)])
    return BinaryDoc(f"big-{pages}p-{seed}.pdf", title, data, PDF)

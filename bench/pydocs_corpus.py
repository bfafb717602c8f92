"""Build "pydocs", a BEIR-format corpus of long multi-section documents with paragraph queries.

    python bench/pydocs_corpus.py OUT_DIR

Everything comes from text that ships with the environment, so the corpus is rebuilt
byte-for-byte from the same versions (no network, nothing stored in the repository):

- NumPy's public callables (numpy, linalg, fft, random, ma, polynomial, strings, char, lib,
  testing; numpy is pinned in backend/requirements.txt) whose docstring has at least 80 words:
  one document each, titled by its qualified name (aliases of one object are kept once).
  When the docstring's second paragraph is an extended summary of at least 20 words, the
  summary line plus that paragraph become a query and are REMOVED from the document, which
  keeps its Parameters / Returns / Notes / Examples sections.
- Python's language reference topics (`pydoc_data.topics`, fixed by the Python version): one
  document each; the first paragraph of at least 40 words after the opening one becomes a
  query and is removed from its document.

Each query is judged relevant (score 1) to its source document only. The shape differs from
SciFact on purpose: documents are longer (median ~270 words, many over the embedder's
256-token window and several chunks), split into sections, and queries are paragraphs.
Writes corpus.jsonl, queries.jsonl and qrels/test.tsv (BEIR layout) plus a README with the
versions it was built from.
"""

from __future__ import annotations

import inspect
import json
import platform
import re
import sys
from pathlib import Path
from pydoc_data.topics import topics
from typing import Any

import numpy as np

MIN_DOC_WORDS = 80
MIN_SUMMARY_WORDS = 20
MIN_TOPIC_PARAGRAPH_WORDS = 40
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _numpy_modules() -> list[tuple[str, Any]]:
    return [
        ("numpy", np), ("numpy.linalg", np.linalg), ("numpy.fft", np.fft),
        ("numpy.random", np.random), ("numpy.ma", np.ma), ("numpy.polynomial", np.polynomial),
        ("numpy.strings", np.strings), ("numpy.char", np.char), ("numpy.lib", np.lib),
        ("numpy.testing", np.testing),
    ]


def _words(text: str) -> int:
    return len(text.split())


def numpy_documents() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    docs: list[dict[str, str]] = []
    queries: list[dict[str, str]] = []
    seen_objects: set[int] = set()
    seen_texts: set[str] = set()
    for module_name, module in _numpy_modules():
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            obj = getattr(module, name, None)
            if obj is None or not callable(obj) or id(obj) in seen_objects:
                continue
            doc = inspect.getdoc(obj)
            if not doc or _words(doc) < MIN_DOC_WORDS or doc in seen_texts:
                continue
            seen_objects.add(id(obj))
            seen_texts.add(doc)
            doc_id = f"{module_name}.{name}"
            paras = [p.strip() for p in _PARAGRAPHS.split(doc) if p.strip()]
            text = doc
            if (len(paras) > 2 and _words(paras[1]) >= MIN_SUMMARY_WORDS
                    and "---" not in paras[1] and "\n-" not in paras[0]):
                query = " ".join(f"{paras[0]} {paras[1]}".split())
                queries.append({"_id": f"q-{doc_id}", "text": query})
                text = "\n\n".join(paras[2:])
            docs.append({"_id": doc_id, "title": doc_id, "text": text})
    return docs, queries


def topic_documents() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    docs: list[dict[str, str]] = []
    queries: list[dict[str, str]] = []
    for name in sorted(topics):
        paras = [p.strip() for p in _PARAGRAPHS.split(topics[name]) if p.strip()]
        if _words(topics[name]) < MIN_DOC_WORDS:
            continue
        doc_id = f"topic-{name}"
        pick = next((i for i, p in enumerate(paras[1:], start=1)
                     if _words(p) >= MIN_TOPIC_PARAGRAPH_WORDS), None)
        if pick is not None:
            queries.append({"_id": f"q-{doc_id}", "text": " ".join(paras[pick].split())})
            paras = paras[:pick] + paras[pick + 1 :]
        docs.append({"_id": doc_id, "title": name, "text": "\n\n".join(paras)})
    return docs, queries


def build(out: Path) -> dict[str, int]:
    docs, queries = numpy_documents()
    more_docs, more_queries = topic_documents()
    docs += more_docs
    queries += more_queries
    out.mkdir(parents=True, exist_ok=True)
    (out / "qrels").mkdir(exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    with (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q in queries:
            f.write(f"{q['_id']}\t{q['_id'][2:]}\t1\n")
    (out / "README.md").write_text(
        f"pydocs corpus built by bench/pydocs_corpus.py from numpy {np.__version__} and "
        f"Python {platform.python_version()}: {len(docs)} documents, {len(queries)} queries.\n",
        encoding="utf-8",
    )
    return {"documents": len(docs), "queries": len(queries)}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/pydocs_corpus.py OUT_DIR")
    print(json.dumps(build(Path(sys.argv[1]))))

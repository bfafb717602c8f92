"""The text a chunk row is embedded from, and its BM25 postings are taken from: the ingest
and every re-embedding into another embedding space call this one function, so all spaces
embed the same text, and lexical search sees the words the vector saw."""

from __future__ import annotations

from app.core.config import get_settings


def embedding_text(text: str, ordinal: int, title: str | None, granularity: str = "chunk") -> str:
    """Later chunks lose the document's title; put it back in front for the embedder and
    the lexical index (a whole-document row starts with it already). On full SciFact this
    took lexical nDCG@10 from 0.670 to 0.689 and hybrid from 0.739 to 0.746 (README,
    "Evaluation")."""
    if title and ordinal > 0 and granularity == "chunk" and get_settings().chunk_title_prefix:
        return f"{title}\n{text}"
    return text

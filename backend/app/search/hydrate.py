"""Turn ranked chunk ids into hits: sources, document metadata and highlighted snippets.

Highlights come from Postgres `ts_headline` with the chunk's collection configuration, so
they mark exactly the words the lexical retriever matched (stemmed). The chunk text is
HTML-escaped *before* ts_headline adds <mark>…</mark>: the snippets are safe to insert as
HTML and the document's own markup can never produce or close a <mark>.

When the search already knows the query's lexemes (the terms lexical retrieval kept, see
search/lexical.py), the highlight query is those lexemes OR-ed together: the words marked
are the words scored, and a 10,000-character query costs no more than its kept terms.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# Separates ts_headline fragments; removed from the text first so it cannot occur in it.
_DELIM = "\ue000"
_OPTIONS = (
    "StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, MinWords=12, "
    f'FragmentDelimiter="{_DELIM}"'
)
_ESCAPED = (
    "replace(replace(replace(replace(replace(replace(c.text, :delim, ''),"
    " '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), '''', '&#39;')"
)
_FROM_QUERY = """CAST(replace(CAST(plainto_tsquery(col.text_search_config::regconfig,
                                                  CAST(:query AS text)) AS text),
                             ' & ', ' | ') AS tsquery)"""
_FROM_LEXEMES = "CAST(:lexemes AS tsquery)"
_HYDRATE = """
SELECT c.id, c.document_id, d.filename, col.name, c.page, c.ordinal, c.char_start,
       c.char_end, c.text, d.metadata,
       {headline} AS headline
FROM chunks c
JOIN documents d ON d.id = c.document_id
JOIN collections col ON col.id = c.collection_id
WHERE c.id = ANY(:ids) AND d.status = 'ready'
"""
_HEADLINE = f"ts_headline(col.text_search_config::regconfig, {_ESCAPED}, {{tsquery}}, :options)"


@dataclass
class ChunkSource:
    chunk_id: int
    document_id: uuid.UUID
    filename: str
    collection: str
    page: int | None
    ordinal: int
    char_start: int
    char_end: int
    text: str
    metadata: dict[str, Any]
    highlights: list[str]


def tsquery_of(lexemes: list[str]) -> str:
    """The lexemes as one OR tsquery literal, each quoted (no parsing or stemming again)."""
    quoted = ("'" + lx.replace("\\", "\\\\").replace("'", "''") + "'" for lx in lexemes)
    return " | ".join(quoted)


def load_sources(
    session: Session, chunk_ids: list[int], query: str, lexemes: list[str] | None = None
) -> dict[int, ChunkSource]:
    """Sources of the given chunks (missing ones were deleted meanwhile and are left out).
    Highlights mark `lexemes` when given (none: no highlights), else the query's words."""
    if not chunk_ids:
        return {}
    params: dict[str, Any] = {"ids": chunk_ids, "options": _OPTIONS, "delim": _DELIM}
    if lexemes is None:
        headline = _HEADLINE.format(tsquery=_FROM_QUERY)
        params["query"] = query
    elif lexemes:
        headline = _HEADLINE.format(tsquery=_FROM_LEXEMES)
        params["lexemes"] = tsquery_of(lexemes)
    else:
        headline = "NULL"
    rows: list[Any] = list(session.execute(text(_HYDRATE.format(headline=headline)), params))
    return {
        int(r[0]): ChunkSource(
            chunk_id=int(r[0]),
            document_id=r[1],
            filename=r[2],
            collection=r[3],
            page=r[4],
            ordinal=r[5],
            char_start=r[6],
            char_end=r[7],
            text=r[8],
            metadata=dict(r[9] or {}),
            highlights=split_highlights(r[10]),
        )
        for r in rows
    }


def split_highlights(headline: str | None) -> list[str]:
    """Fragments that contain a match; none when no query term occurs in the chunk."""
    if not headline:
        return []
    return [f.strip() for f in headline.split(_DELIM) if "<mark>" in f]

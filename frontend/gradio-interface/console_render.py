"""Turn API payloads into table rows and safe HTML (pure functions, no I/O, no Gradio).

Search hits may carry `highlights` (Cairn's hybrid search sends HTML-escaped snippets with
<mark> tags); older or other shapes are accepted too: strings with <mark>/<b>/<em> tags, strings
without tags (a fragment to show), {start, end} offsets into the hit's text, [start, end]
pairs, or {text|fragment|snippet} objects. Without highlights, the query's words are marked
in the snippet on the console's side, and the HTML says so.
"""

from __future__ import annotations

import html
import re
from typing import Any

SNIPPET_CHARS = 240
DOCUMENT_HEADERS = ["filename", "collection", "status", "stage", "chunks", "error", "created", "id"]
UPLOAD_HEADERS = ["filename", "id", "status", "duplicate", "task id", "collection"]
CHUNK_HEADERS = ["ordinal", "page", "tokens", "chars", "text", "source"]
SEARCH_HEADERS = ["rank", "score", "filename", "page", "snippet", "retrievers"]
HEALTH_HEADERS = ["check", "status", "ms", "error"]
COLUMN_WIDTHS: dict[str, list[str | int]] = {
    "documents": ["16%", "10%", "8%", "8%", "6%", "16%", "12%", "24%"],
    "upload": ["18%", "26%", "9%", "9%", "26%", "12%"],
    "chunks": ["8%", "6%", "8%", "12%", "54%", "12%"],
    "search": ["6%", "8%", "16%", "6%", "50%", "14%"],
    "health": ["15%", "10%", "10%", "65%"],
    "labels": ["14%", "40%", "14%", "16%", "16%"],
}

_RAW_TAG = re.compile(r"<(/?)(?:mark|b|em|strong)>", re.IGNORECASE)
_RAW_TAG_SPLIT = re.compile(r"(</?(?:mark|b|em|strong)>)", re.IGNORECASE)
_WORD = re.compile(r"\w{2,}", re.UNICODE)
# Not worth marking when the console highlights query words itself.
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "  # noqa: SIM905
    "were what when where which who why with how do does did not no".split()
)


def shorten(text: str | None, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def upload_rows(body: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            d.get("filename", ""),
            str(d.get("id", "")),
            d.get("status", ""),
            "yes" if d.get("duplicate") else "no",
            d.get("task_id") or "",
            d.get("collection", ""),
        ]
        for d in body.get("documents", [])
    ]


def document_rows(page: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            d.get("filename", ""),
            d.get("collection", ""),
            d.get("status", ""),
            d.get("stage", ""),
            d.get("chunk_count", 0),
            shorten(d.get("error"), 120),
            str(d.get("created_at", ""))[:19].replace("T", " "),
            str(d.get("id", "")),
        ]
        for d in page.get("items", [])
    ]


def chunk_rows(page: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            c.get("ordinal", ""),
            "" if c.get("page") is None else c["page"],
            c.get("token_count", ""),
            f"{c.get('char_start', '')}-{c.get('char_end', '')}",
            shorten(c.get("text"), 400),
            c.get("source", "text"),
        ]
        for c in page.get("items", [])
    ]


def _retrievers_text(hit: dict[str, Any]) -> str:
    value = hit.get("retrievers")
    if value is None:
        return ""
    if isinstance(value, dict):  # e.g. {"vector": {"rank": 1, "score": 0.8}, "lexical": ...}
        parts = []
        for name, info in value.items():
            rank = info.get("rank") if isinstance(info, dict) else info
            parts.append(f"{name}#{rank}" if rank is not None else str(name))
        return ", ".join(parts)
    if isinstance(value, list):
        return ", ".join(
            str(v.get("name") or v.get("retriever") or v) if isinstance(v, dict) else str(v)
            for v in value
        )
    return str(value)


def hit_text(hit: dict[str, Any]) -> str:
    """A hit's text; a document-grouped hit may carry it in its best chunk instead."""
    for key in ("text", "snippet"):
        if isinstance(hit.get(key), str):
            return str(hit[key])
    for key in ("chunks", "hits", "passages"):
        inner = hit.get(key)
        if isinstance(inner, list) and inner and isinstance(inner[0], dict):
            return hit_text(inner[0])
    return ""


def search_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for i, hit in enumerate(results, start=1):
        score = hit.get("score")
        rows.append(
            [
                hit.get("rank", i),
                round(score, 4) if isinstance(score, int | float) else "",
                hit.get("filename", ""),
                "" if hit.get("page") is None else hit["page"],
                shorten(hit_text(hit)),
                _retrievers_text(hit),
            ]
        )
    return rows


def _mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape text and wrap the (merged, in-range) spans in <mark>."""
    clean = sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s)
    out, pos = [], 0
    for start, end in clean:
        if end <= pos:
            continue
        start = max(start, pos)
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _tagged_fragment(fragment: str) -> str:
    """Safe HTML for a fragment whose literal <mark>/<b>/<em>/<strong> tags mark matches.

    The text between tags is unescaped then escaped, so an API that already escaped it (as
    Cairn's does) is not double-escaped, and one that did not cannot inject markup.
    """
    out, depth = [], 0
    for piece in _RAW_TAG_SPLIT.split(fragment):
        tag = _RAW_TAG.fullmatch(piece)
        if tag is None:
            out.append(html.escape(html.unescape(piece)))
        elif tag.group(1):
            if depth:
                depth -= 1
                out.append("</mark>")
        else:
            depth += 1
            out.append("<mark>")
    out.extend("</mark>" for _ in range(depth))
    return "".join(out)


def _as_span(item: Any) -> tuple[int, int] | None:
    if isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(v, int) for v in item):
        return int(item[0]), int(item[1])
    if isinstance(item, dict):
        start = item.get("start", item.get("char_start"))
        end = item.get("end", item.get("char_end"))
        if isinstance(start, int) and isinstance(end, int):
            return start, end
    return None


def highlight_html(hit: dict[str, Any], query: str) -> tuple[str, bool]:
    """(HTML of the hit's highlighted snippet, whether the API supplied the highlights)."""
    text = hit_text(hit)
    raw = hit.get("highlights")
    items = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str | dict) else [])
    spans = [s for s in (_as_span(i) for i in items) if s is not None]
    if spans:
        return _mark_spans(text, spans), True
    fragments = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("text") or item.get("fragment") or item.get("snippet")
        if isinstance(item, str) and item.strip():
            fragments.append(_tagged_fragment(item))
    if fragments:
        return " … ".join(fragments), True
    words = {w.lower() for w in _WORD.findall(query)} - _STOPWORDS
    local = [(m.start(), m.end()) for m in _WORD.finditer(text) if m.group(0).lower() in words]
    return _mark_spans(shorten(text, 2000) if not local else text, local), False


def search_html(results: list[dict[str, Any]], query: str, limit: int = 10) -> str:
    if not results:
        return "<p><em>No results.</em></p>"
    blocks = []
    for i, hit in enumerate(results[:limit], start=1):
        body, from_api = highlight_html(hit, query)
        source = "highlights from the API" if from_api else "query words marked by the console"
        page = f", page {hit['page']}" if hit.get("page") is not None else ""
        if isinstance(hit.get("matched_chunks"), int):
            page += f", {hit['matched_chunks']} matching chunk(s)"
        score = hit.get("score")
        score_text = f"{score:.4f}" if isinstance(score, int | float) else "?"
        blocks.append(
            '<div class="cairn-hit">'
            f"<div><strong>#{hit.get('rank', i)} {html.escape(str(hit.get('filename', '')))}"
            f"</strong>{html.escape(page)} · score {score_text}"
            f" · <small>{source}</small></div>"
            f'<div class="cairn-snippet">{body}</div></div>'
        )
    return "\n".join(blocks)


def health_rows(body: dict[str, Any]) -> list[list[Any]]:
    checks = body.get("checks", {})
    rows = []
    for name, result in checks.items() if isinstance(checks, dict) else []:
        ok = isinstance(result, dict) and bool(result.get("ok"))
        rows.append(
            [
                name,
                "ok" if ok else "error",
                result.get("ms", "") if isinstance(result, dict) else "",
                "" if ok else str(result.get("code", "") if isinstance(result, dict) else result),
            ]
        )
    return rows

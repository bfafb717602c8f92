"""Read an uploaded golden set strictly: BEIR-style queries (JSONL `{"_id", "text"}` or TSV
`query-id<TAB>text`) and judgements (TSV `query-id<TAB>corpus-id<TAB>score`, optional header,
or TREC's four columns). The parsers are the eval harness's own (app/eval/dataset.py); every
error names the file and the line and becomes a 422."""

from __future__ import annotations

from app.core.config import get_settings
from app.core.errors import PayloadTooLarge, Unprocessable
from app.eval.dataset import DatasetError, jsonl_rows, parse_qrels, queries_from_rows

MAX_FILE_BYTES = 10 * 1024 * 1024  # per uploaded file
MAX_QUERIES = 1000  # judged queries per set: a run searches each one in every mode
_QUERY_HEADERS = {"_id", "query-id", "query_id", "qid", "id"}


def _invalid(message: str, details: object = None) -> Unprocessable:
    return Unprocessable(message, code="invalid_eval_set", details=details)


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"{name} is over {MAX_FILE_BYTES} bytes.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid(f"{name} is not UTF-8 text (byte {exc.start}).") from exc


def parse_queries(content: str, name: str) -> dict[str, str]:
    lines = content.splitlines()
    first = next((line for line in lines if line.strip()), "")
    try:
        if first.lstrip().startswith("{"):
            return queries_from_rows(jsonl_rows(lines, name), name)
    except DatasetError as exc:
        raise _invalid(str(exc)) from exc
    queries: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        qid, tab, text = line.partition("\t")
        if number == 1 and qid.strip().lower() in _QUERY_HEADERS:
            continue
        if not tab or not qid.strip():
            raise _invalid(f"{name} line {number}: expected query-id<TAB>text (or JSON lines)")
        queries[qid.strip()] = text
    return queries


def parse_judgements(content: str, name: str) -> dict[str, dict[str, int]]:
    try:
        return parse_qrels(content.splitlines(), name)
    except DatasetError as exc:
        raise _invalid(str(exc)) from exc


def judged_queries(
    queries: dict[str, str], qrels: dict[str, dict[str, int]]
) -> dict[str, str]:
    """The judged queries, checked: each is in the queries file, has text within the search
    limit, the set is not too large and judges at least one document relevant."""
    missing = [q for q in qrels if q not in queries]
    if missing:
        raise _invalid(
            f"{len(missing)} judged queries are not in the queries file.",
            {"missing_query_ids": missing[:20]},
        )
    if len(qrels) > MAX_QUERIES:
        raise _invalid(f"At most {MAX_QUERIES} judged queries per eval set ({len(qrels)} given).")
    if not any(g > 0 for docs in qrels.values() for g in docs.values()):
        raise _invalid("No judgement has a score above 0: nothing is relevant.")
    limit = get_settings().search_max_query_chars
    for qid in qrels:
        text = queries[qid]
        if not text.strip() or len(text) > limit:
            raise _invalid(
                f"Query {qid!r} is blank or over {limit} characters (SEARCH_MAX_QUERY_CHARS)."
            )
    return {q: queries[q] for q in qrels}

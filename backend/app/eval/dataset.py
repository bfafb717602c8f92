"""Read a BEIR-format folder: corpus.jsonl[.gz], queries.jsonl, qrels (test split).

Layout (as published by BEIR):
  corpus.jsonl or corpus.jsonl.gz   {"_id", "title", "text"} one per line
  queries.jsonl                     {"_id", "text"} one per line
  qrels/test.tsv or qrels_test.tsv  header row, then query-id <TAB> corpus-id <TAB> score

Scores are graded relevance; 0 means judged not relevant. Errors name the file and line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class DatasetError(Exception):
    """The folder is not a usable BEIR dataset (the CLI exits with code 2)."""


@dataclass(frozen=True)
class CorpusDoc:
    id: str
    title: str
    text: str

    def content(self) -> str:
        """What Cairn ingests for this document: title, blank line, text."""
        return f"{self.title}\n\n{self.text}" if self.title else self.text


@dataclass
class BeirDataset:
    name: str
    path: Path
    corpus: list[CorpusDoc]
    queries: dict[str, str]  # only the queries that are judged in the qrels
    qrels: dict[str, dict[str, int]]  # query id -> corpus id -> grade (0 kept: judged non-relevant)
    missing_queries: list[str] = field(default_factory=list)  # in qrels, not in queries.jsonl
    unknown_docs: int = 0  # qrels rows naming a corpus id that is not in the corpus

    def limit(self, n: int) -> None:
        """Keep the first n judged queries (in qrels order)."""
        keep = list(self.queries)[:n]
        self.queries = {q: self.queries[q] for q in keep}
        self.qrels = {q: self.qrels[q] for q in keep}

    def queries_without_relevant(self) -> list[str]:
        return [q for q, docs in self.qrels.items() if not any(g > 0 for g in docs.values())]


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    try:
        with _open_text(path) as handle:
            yield from jsonl_rows(handle, path.name)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc


def jsonl_rows(lines: Iterable[str], source: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, JSON object) of each non-blank line; errors name `source` and the line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{source} line {number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise DatasetError(f"{source} line {number}: expected a JSON object")
        yield number, row


def _field(
    row: dict[str, object], key: str, path: Path | str, number: int, *, required: bool
) -> str:
    value = row.get(key)
    if value is None and not required:
        return ""
    if key == "_id" and isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        name = path.name if isinstance(path, Path) else path
        raise DatasetError(f'{name} line {number}: "{key}" must be a string')
    return value


def find_file(folder: Path, candidates: list[str], what: str) -> Path:
    for name in candidates:
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"no {what} in {folder} (looked for {', '.join(candidates)})")


def load_corpus(path: Path) -> list[CorpusDoc]:
    docs: list[CorpusDoc] = []
    seen: set[str] = set()
    for number, row in _jsonl(path):
        doc_id = _field(row, "_id", path, number, required=True).strip()
        if not doc_id:
            raise DatasetError(f'{path.name} line {number}: empty "_id"')
        if doc_id in seen:
            raise DatasetError(f"{path.name} line {number}: duplicate _id {doc_id!r}")
        title = _field(row, "title", path, number, required=False).strip()
        text = _field(row, "text", path, number, required=False).strip()
        if not title and not text:
            raise DatasetError(
                f"{path.name} line {number}: document {doc_id!r} has no title or text"
            )
        seen.add(doc_id)
        docs.append(CorpusDoc(doc_id, title, text))
    if not docs:
        raise DatasetError(f"{path.name} has no documents")
    return docs


def load_queries(path: Path) -> dict[str, str]:
    return queries_from_rows(_jsonl(path), path.name)


def queries_from_rows(rows: Iterable[tuple[int, dict[str, object]]], source: str) -> dict[str, str]:
    queries: dict[str, str] = {}
    for number, row in rows:
        qid = _field(row, "_id", source, number, required=True).strip()
        queries[qid] = _field(row, "text", source, number, required=True)
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    return parse_qrels(lines, path.name)


def parse_qrels(lines: list[str], source: str) -> dict[str, dict[str, int]]:
    """TSV judgements: query-id, corpus-id, score (or TREC's four columns); a header row is
    skipped. Errors name `source` and the line."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\n").split("\t")
        if number == 1 and parts[0].strip().lower() in {"query-id", "query_id", "qid"}:
            continue  # header
        if len(parts) == 4:  # TREC layout: qid, iteration, docid, grade
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3:
            raise DatasetError(f"{source} line {number}: expected query-id, corpus-id, score")
        qid, doc_id, raw = (p.strip() for p in parts)
        try:
            grade = int(float(raw))
        except (ValueError, OverflowError) as exc:
            raise DatasetError(f"{source} line {number}: score {raw!r} is not a number") from exc
        if not qid or not doc_id:
            raise DatasetError(f"{source} line {number}: empty query-id or corpus-id")
        qrels.setdefault(qid, {})[doc_id] = grade
    if not qrels:
        raise DatasetError(f"{source} has no judgements")
    return qrels


def load_dataset(folder: Path | str) -> BeirDataset:
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a directory")
    corpus_path = find_file(folder, ["corpus.jsonl", "corpus.jsonl.gz"], "corpus")
    queries_path = find_file(folder, ["queries.jsonl", "queries.jsonl.gz"], "queries file")
    qrels_path = find_file(folder, ["qrels/test.tsv", "qrels_test.tsv"], "test qrels")
    # Cheapest checks first: a bad qrels file should not cost a full corpus read.
    qrels = load_qrels(qrels_path)
    all_queries = load_queries(queries_path)
    corpus = load_corpus(corpus_path)
    missing = [q for q in qrels if q not in all_queries]
    for q in missing:
        del qrels[q]
    if not qrels:
        raise DatasetError("none of the judged queries is in the queries file")
    ids = {d.id for d in corpus}
    unknown = sum(1 for docs in qrels.values() for d in docs if d not in ids)
    return BeirDataset(
        name=folder.resolve().name,
        path=folder.resolve(),
        corpus=corpus,
        queries={q: all_queries[q] for q in qrels},
        qrels=qrels,
        missing_queries=missing,
        unknown_docs=unknown,
    )

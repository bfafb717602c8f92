"""A copy of each collection's lexical postings in tantivy, for BM25 that skips postings.

Postgres stays the lexical index of record (search/lexical_index.py): every write of a
collection's postings raises its `lexical_version` and records the document it changed. With
LEXICAL_ENGINE=tantivy the API keeps, per collection, a tantivy index of the same postings
under LEXICAL_INDEX_DIR/<collection id> (search/lexical_sync.py brings it up to date), and
BM25 asks it for its best chunks only when it holds exactly the collection's current version
(a version document inside the index, read by the same searcher that searches, so the check
and the search see one snapshot). Anything else (no copy yet, or one behind) is answered by
Postgres' own BM25: a search never sees a stale copy.

What tantivy adds is top-k that skips: block-max WAND reads a term's postings only where they
can still enter the top k, where SQL must read every posting of every query term (100k
synthetic chunks: ~1.3 ms against ~19 ms for the same query, README "Performance").

The copy indexes Postgres' lexemes, not the chunk text: each chunk is its lexemes, each
repeated tf times and split on whitespace (a lexeme's own ASCII whitespace, if the
configuration ever makes one, is replaced by U+001F on both sides), so the vocabulary,
document frequencies and lengths are Postgres' (per collection: one index each, so no
statistic crosses collections or tenants). Scoring is tantivy's BM25 (k1 1.2, b 0.75, lengths
stored in one byte, its (k1 + 1) factor divided out, so the scale is Postgres') with Postgres'
idf (each term boosted by Postgres' idf over the copy's own): a search over several
collections asks each copy for its best chunks with the idf of all of them and merges the
lists, as Postgres' BM25 sums the statistics of the searched collections (each copy keeps its
own average length). BM25_K1 / BM25_B apply to Postgres' BM25 only. On
SciFact, with the same tokens, k1 1.2 / b 0.75 scores 0.687 nDCG@10 against 0.682 at 0.9 / 0.4.
"""

from __future__ import annotations

import math
import shutil
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import tantivy

_ANALYZER = "cairn_lexemes"
# tantivy's BM25 keeps the classic (k1 + 1) factor that Lucene 8 dropped; dividing it out puts
# the copy's scores on Postgres' BM25 scale (search/lexical.py)
_K1_PLUS_ONE = 2.2
_VERSION_DOC = "~version"  # the document_id of the one document that carries the version
_WHITESPACE = str.maketrans({c: "\x1f" for c in " \t\n\r\x0c"})


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("lexemes", tokenizer_name=_ANALYZER, index_option="freq")
    builder.add_unsigned_field("chunk_id", fast=True)
    builder.add_text_field("document_id", tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("version", fast=True)
    return builder.build()


_SCHEMA = _schema()


def _token(lexeme: str) -> str:
    return lexeme.translate(_WHITESPACE)


def chunk_body(lexemes: Sequence[str], tfs: Sequence[int]) -> str:
    """A chunk as the copy indexes it: each lexeme tf times, so tantivy counts the same tf
    and the same length (the sum of tfs) as Postgres' postings."""
    pairs = zip(lexemes, tfs, strict=True)
    return " ".join(" ".join([_token(lexeme)] * tf) for lexeme, tf in pairs)


class IndexBusy(Exception):
    """Another process holds this copy's writer (it is bringing the copy up to date)."""


class Replica:
    """One collection's copy, in its own directory."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.index = tantivy.Index(_SCHEMA, path=str(path), reuse=True)
        self.index.register_tokenizer(
            _ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
        )

    @staticmethod
    def _version(searcher: tantivy.Searcher) -> int | None:
        query = tantivy.Query.term_query(_SCHEMA, "document_id", _VERSION_DOC)
        hits = searcher.search(query, 1, count=False).hits
        if not hits:
            return None
        value = searcher.fast_field_values("version", [hits[0][1]])[0]
        return None if value is None else int(value)

    def version(self) -> int | None:
        """The collection version this copy holds (None: never written)."""
        return self._version(self.index.searcher())

    def search(
        self, idfs: Mapping[str, float], depth: int, wanted: int | None = None
    ) -> tuple[int | None, list[tuple[int, float]]]:
        """(the version searched, the best `depth` (chunk id, score)), from one searcher.
        `idfs`: each query lexeme's idf as Postgres computes it over the searched
        collections; each term is boosted by that over the copy's own idf, so the scores are
        BM25 with Postgres' idf (one collection: its exact statistics, not the copy's, which
        count the version document and deleted chunks not yet merged away). With `wanted`,
        a copy at another version is not searched: (its version, []), as its hits would
        not be used."""
        searcher = self.index.searcher()
        version = self._version(searcher)
        stale = wanted is not None and version != wanted
        if version is None or stale or not idfs or depth <= 0:
            return version, []
        n = searcher.num_docs
        terms = []
        for lexeme, idf in idfs.items():
            token = _token(lexeme)
            df = searcher.doc_freq("lexemes", token)
            own = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            term = tantivy.Query.term_query(_SCHEMA, "lexemes", token, index_option="freq")
            terms.append((tantivy.Occur.Should, tantivy.Query.boost_query(term, idf / own)))
        query = terms[0][1] if len(terms) == 1 else tantivy.Query.boolean_query(terms)
        hits = searcher.search(query, depth, count=False).hits
        chunk_ids = searcher.fast_field_values("chunk_id", [address for _, address in hits])
        return version, [
            (int(chunk_id), float(score) / _K1_PLUS_ONE)
            for (score, _), chunk_id in zip(hits, chunk_ids, strict=True)
            if chunk_id is not None
        ]

    def apply(
        self,
        version: int,
        chunks: Iterable[tuple[int, uuid.UUID, list[str], list[int]]],
        replaced: Iterable[uuid.UUID] | None,
        heap_bytes: int,
    ) -> int:
        """Bring the copy to `version`: drop the chunks of the `replaced` documents (None:
        every chunk), add `chunks`, record the version, commit. Returns the chunks added.
        Raises IndexBusy when another process holds the writer."""
        try:
            writer = self.index.writer(heap_size=heap_bytes, num_threads=1)
        except ValueError as exc:  # tantivy's lock file: one writer per index, across processes
            raise IndexBusy(str(exc)) from exc
        try:
            if replaced is None:
                writer.delete_all_documents()
            else:
                for document_id in replaced:
                    writer.delete_documents_by_term("document_id", str(document_id))
            writer.delete_documents_by_term("document_id", _VERSION_DOC)
            added = 0
            for chunk_id, document_id, lexemes, tfs in chunks:
                doc = tantivy.Document()
                doc.add_text("lexemes", chunk_body(lexemes, tfs))
                doc.add_unsigned("chunk_id", chunk_id)
                doc.add_text("document_id", str(document_id))
                writer.add_document(doc)
                added += 1
            doc = tantivy.Document()
            doc.add_text("document_id", _VERSION_DOC)
            doc.add_unsigned("version", version)
            writer.add_document(doc)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        writer.wait_merging_threads()  # merges finish (segments stay few), the lock goes
        self.index.reload()
        return added


class Replicas:
    """This process's copies, opened on first use, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[uuid.UUID, Replica] = {}
        self._lock = threading.Lock()

    def get(self, collection_id: uuid.UUID, *, create: bool = False) -> Replica | None:
        with self._lock:
            replica = self._open.get(collection_id)
            if replica is None:
                path = self.root / str(collection_id)
                if not create and not (path / "meta.json").exists():
                    return None
                replica = self._open[collection_id] = Replica(path)
            return replica

    def collections(self) -> set[uuid.UUID]:
        """The collections with a copy on disk."""
        found: set[uuid.UUID] = set()
        if self.root.is_dir():
            for entry in self.root.iterdir():
                try:
                    found.add(uuid.UUID(entry.name))
                except ValueError:
                    continue
        return found

    def drop(self, collection_id: uuid.UUID) -> None:
        """Delete a collection's copy (the collection is gone)."""
        with self._lock:
            self._open.pop(collection_id, None)
        shutil.rmtree(self.root / str(collection_id), ignore_errors=True)

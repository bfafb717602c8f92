"""Synthetic chunks at scale for the query benchmark, loaded straight into Postgres with COPY.

How the data is made (so the searches meet realistic indexes, not noise):
- Seeds: the first `n_seeds` documents of a real corpus (SciFact's abstracts). Each seed's
  title and opening text is embedded by the configured embedder: these are the topic
  centroids.
- A chunk belongs to one seed. Its vector is the seed's vector plus Gaussian noise
  (`noise` per dimension, cosine to its centroid about 0.75), normalised: clusters around
  real topics, so the HNSW graph has the structure real text gives it. Its text is a run of
  about 60 consecutive words of the seed's abstract (from a random start, wrapping) plus about
  20 words drawn from the whole corpus (word frequencies as in the corpus), so real query
  words match with realistic document frequencies.
- Documents of `chunks_per_doc` chunks, status ready; every chunk stores the embedder's model.
- The lexical index is then built for the new chunks with the same SQL as
  app/search/lexical_index.py (postings from `to_tsvector` with the collection's text search
  configuration, each carrying its chunk's length as bulk_index.py writes it, chunk lengths,
  then the collection's document frequencies and totals recomputed), so BM25 sees exactly
  the statistics the ingest would have written. The collection's lexical version is raised
  with no change record, so the API's tantivy copy (LEXICAL_ENGINE=tantivy) is rebuilt.
- The HNSW index is dropped before the COPY and rebuilt after it (as a bulk load would do;
  the same definition, read from pg_indexes), then the tables are analysed.

Loading again adds chunks to the same collection (10k, then 90k more for 100k...).
"""

from __future__ import annotations

import io
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,}")

_POSTINGS = """
INSERT INTO chunk_terms (chunk_id, term, collection_id, tf, lex_length)
SELECT c.id, t.lexeme, c.collection_id, COALESCE(array_length(t.positions, 1), 1), l.len
FROM chunks c
JOIN collections col ON col.id = c.collection_id
CROSS JOIN LATERAL to_tsvector(col.text_search_config::regconfig, c.text) AS v(vec)
CROSS JOIN LATERAL (SELECT sum(COALESCE(array_length(u.positions, 1), 1))::int AS len
                    FROM unnest(v.vec) AS u) AS l
CROSS JOIN LATERAL unnest(v.vec) AS t
WHERE c.collection_id = %(col)s AND c.id > %(after)s
"""
_LENGTHS = """
UPDATE chunks c SET lex_length = COALESCE(s.len, 0)
FROM (SELECT chunk_id, sum(tf) AS len FROM chunk_terms
      WHERE collection_id = %(col)s AND chunk_id > %(after)s GROUP BY chunk_id) s
WHERE c.id = s.chunk_id
"""
_DF = """
INSERT INTO collection_terms (collection_id, term, df)
SELECT collection_id, term, count(*) FROM chunk_terms WHERE collection_id = %(col)s
GROUP BY collection_id, term
"""
_STATS = """
UPDATE collections SET
  chunk_count = (SELECT count(*) FROM chunks WHERE collection_id = %(col)s),
  total_terms = (SELECT COALESCE(sum(lex_length), 0) FROM chunks WHERE collection_id = %(col)s),
  lexical_version = lexical_version + 1
WHERE id = %(col)s
"""


@dataclass
class Seeds:
    words: list[list[str]]  # each seed's abstract as words
    vectors: np.ndarray  # (seeds, dim), unit rows
    vocab: list[str]  # every corpus word, repeated as often as it occurs


def make_seeds(texts: list[str], embedder: Any) -> Seeds:
    """The topic centroids: each text's opening (about 300 characters) embedded once."""
    words = [WORD.findall(t) for t in texts]
    keep = [i for i, w in enumerate(words) if len(w) >= 20]
    words = [words[i] for i in keep]
    heads = [texts[i][:300] for i in keep]
    vectors = np.asarray(embedder.embed_documents(heads), dtype=np.float32)
    vocab = [w for ws in words for w in ws]
    return Seeds(words, vectors, vocab)


def _vector_literals(vectors: np.ndarray) -> list[str]:
    buf = io.StringIO()
    np.savetxt(buf, vectors, fmt="%.6f", delimiter=",")
    return ["[" + line + "]" for line in buf.getvalue().splitlines()]


def _chunk_text(seeds: Seeds, seed: int, rng: random.Random) -> str:
    own = seeds.words[seed]
    start = rng.randrange(len(own))
    words = [own[(start + i) % len(own)] for i in range(60)]
    words += rng.choices(seeds.vocab, k=20)
    rng.shuffle(words[-30:])  # mix the borrowed words into the tail
    return " ".join(words)


def _hnsw_definitions(cur: Any) -> list[tuple[str, str]]:
    cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'chunks' "
                "AND indexdef ILIKE '%USING hnsw%'")  # fmt: skip
    return [(str(r[0]), str(r[1])) for r in cur.fetchall()]


def add_chunks(
    dsn: str, collection_id: uuid.UUID, seeds: Seeds, n_new: int, *, model: str,
    chunks_per_doc: int = 4, noise: float = 0.045, seed: int = 7,
) -> dict[str, float]:  # fmt: skip
    """Add n_new chunks (and their documents) to the collection; seconds per step."""
    import psycopg

    rng = random.Random(seed + n_new)
    nrng = np.random.default_rng(seed + n_new)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    n_docs = max(1, n_new // chunks_per_doc)
    owners = nrng.integers(0, len(seeds.words), size=n_docs)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        definitions = _hnsw_definitions(cur)
        for name, _ in definitions:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SELECT COALESCE(max(id), 0) FROM chunks")
        after = int(cur.fetchone()[0])  # type: ignore[index]
        doc_ids = [uuid.uuid4() for _ in range(n_docs)]
        with cur.copy("COPY documents (id, collection_id, filename, content_type, size_bytes, "
                      "sha256, storage_key, status, stage, chunk_count, embedding_model) "
                      "FROM STDIN") as copy:  # fmt: skip
            for doc in doc_ids:
                copy.write_row((doc, collection_id, f"synthetic-{doc.hex[:12]}.txt", "text/plain",
                                2000, doc.hex * 2, f"synthetic/{doc.hex}", "ready", "done",
                                chunks_per_doc, model))  # fmt: skip
        timings["documents_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        for start in range(0, n_docs, 5000):  # in slices: bounded memory at 1M
            block = range(start, min(start + 5000, n_docs))
            owner = np.repeat(owners[block.start : block.stop], chunks_per_doc)
            dim = seeds.vectors.shape[1]
            vecs = seeds.vectors[owner] + nrng.normal(0, noise, (len(owner), dim))
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            literals = _vector_literals(vecs.astype(np.float32))
            with cur.copy("COPY chunks (document_id, collection_id, ordinal, text, char_start, "
                          "char_end, token_count, embedding, embedding_model) FROM STDIN") as copy:
                row = 0
                for d in block:
                    offset = 0
                    for ordinal in range(chunks_per_doc):
                        body = _chunk_text(seeds, int(owner[row]), rng)
                        copy.write_row((doc_ids[d], collection_id, ordinal, body, offset,
                                        offset + len(body), 110, literals[row], model))
                        offset += len(body) + 1
                        row += 1
        timings["chunks_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        params = {"col": collection_id, "after": after}
        cur.execute(_POSTINGS, params)
        cur.execute(_LENGTHS, params)
        cur.execute("DELETE FROM collection_terms WHERE collection_id = %(col)s", params)
        cur.execute(_DF, params)
        cur.execute(_STATS, params)
        conn.commit()
        timings["lexical_index_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        for _, definition in definitions:
            cur.execute(definition)
        conn.commit()
        timings["hnsw_build_s"] = time.perf_counter() - t1
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE documents, chunks, chunk_terms, collection_terms, collections")
    timings["total_s"] = time.perf_counter() - t0
    return {k: round(v, 1) for k, v in timings.items()}


def load_collection(plat: Any, seed_texts: list[str], size: int, name: str
                    ) -> tuple[str, dict[str, float], Any]:  # fmt: skip
    """On a started platform (bench/platform_runner.py): point this process's settings at it,
    embed the seeds, create the collection `name` through the API and load `size` chunks into
    it. (collection id, load timings, the embedder)."""
    import os

    import httpx

    os.environ.update({k: v for k, v in plat.env.items() if k.isupper()})
    from app.core.config import get_settings

    get_settings.cache_clear()
    from app.providers.embeddings import get_embedder

    embedder = get_embedder()
    seeds = make_seeds(seed_texts, embedder)
    made = httpx.post(f"{plat.api_url}/api/v1/collections", json={"name": name},
                      headers={"Authorization": f"Bearer {plat.api_key}"}, timeout=30)
    made.raise_for_status()
    collection_id = str(made.json()["id"])
    dsn = plat.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    load = add_chunks(dsn, uuid.UUID(collection_id), seeds, size, model=embedder.model_name)
    return collection_id, load, embedder

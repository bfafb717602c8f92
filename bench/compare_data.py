"""The SciFact subset bench-compare ingests, and the chunks Cairn made of it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import cast

from app.eval.dataset import BeirDataset, CorpusDoc


@dataclass
class Subset:
    docs: list[CorpusDoc]  # in corpus order
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    judged_docs: int
    how: str


def draw_subset(dataset: BeirDataset, n: int, seed: int, max_queries: int = 0) -> Subset:
    """Every document judged for the kept queries, then a seeded random draw of the others up
    to n (0 or >= the corpus: all). When n cannot hold the judged documents of every query,
    queries are kept in qrels order while their judged documents still fit. `max_queries`
    (0: all) keeps only the first judged queries (a quick check)."""
    if max_queries:
        dataset.limit(max_queries)
    known = {d.id for d in dataset.corpus}
    total = len(dataset.corpus)
    if n == 0 or n >= total:
        return Subset(list(dataset.corpus), dict(dataset.queries), dict(dataset.qrels),
                      len({d for docs in dataset.qrels.values() for d in docs if d in known}),
                      f"the whole corpus ({total} documents)")
    judged: set[str] = set()
    queries: dict[str, str] = {}
    for qid, docs in dataset.qrels.items():
        wanted = {d for d in docs if d in known}
        if len(judged | wanted) > n:
            continue
        judged |= wanted
        queries[qid] = dataset.queries[qid]
    if not queries:
        raise SystemExit(f"--docs {n} cannot hold the judged documents of any query")
    others = sorted(known - judged)
    drawn = set(random.Random(seed).sample(others, n - len(judged)))
    keep = judged | drawn
    how = (f"the {len(judged)} documents judged for {len(queries)} of "
           f"{len(dataset.qrels)} test queries, plus {len(drawn)} drawn at random (seed {seed}) "
           f"from the other {len(others)}")
    return Subset([d for d in dataset.corpus if d.id in keep], queries,
                  {q: dataset.qrels[q] for q in queries}, len(judged), how)


def cairn_chunk_stats(database_url: str, collection: str) -> tuple[int, float, int]:
    """(chunks, mean tokens per chunk, whole-document rows) of a collection, read from Cairn's
    database. Document rows (INDEX_GRANULARITY=document) are embedded too but are not chunks."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            count, mean, extra = conn.execute(sa.text(
                "SELECT count(*) FILTER (WHERE c.granularity = 'chunk'), "
                "coalesce(avg(c.token_count) FILTER (WHERE c.granularity = 'chunk'), 0), "
                "count(*) FILTER (WHERE c.granularity <> 'chunk') FROM chunks c "
                "JOIN collections co ON co.id = c.collection_id WHERE co.name = :name"
            ), {"name": collection}).one()
    finally:
        engine.dispose()
    return int(cast(int, count)), float(cast(float, mean)), int(cast(int, extra))

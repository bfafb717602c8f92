"""Baseline for `cairn eval`: the same embedder on each document whole, cut at its window.

    PYTHONPATH=backend python bench/whole_docs.py /path/to/beir_dataset

Each corpus entry is embedded as Cairn ingests it (title, blank line, text; the model cuts
it at EMBEDDING_MAX_TOKENS), each query as the search embeds it (windows averaged when long),
and documents are ranked by exact cosine; nDCG@10, Recall@100 and MRR@10 are scored with the
harness's own metrics (app/eval/metrics.py). No platform: this is the "whole documents" row
that dense retrieval through the API must not fall below.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from app.eval.dataset import load_dataset
from app.eval.metrics import evaluate_run
from app.providers.embeddings import get_embedder


def main(path: Path) -> dict[str, object]:
    dataset = load_dataset(path)
    embedder = get_embedder()
    ids = [d.id for d in dataset.corpus]
    texts = [d.content() for d in dataset.corpus]
    started = time.perf_counter()
    vectors: list[list[float]] = []
    for start in range(0, len(texts), 64):
        vectors.extend(embedder.embed_documents(texts[start : start + 64]))
    docs = np.asarray(vectors, dtype=np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    qids = list(dataset.queries)
    queries = np.asarray([embedder.embed_query(dataset.queries[q]) for q in qids], np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    similarity = queries @ docs.T
    rankings = {q: [ids[j] for j in np.argsort(-similarity[i])[:100]] for i, q in enumerate(qids)}
    means, _ = evaluate_run(dataset.qrels, rankings)
    return {"dataset": dataset.name, "documents": len(ids), "queries": len(qids),
            "seconds": round(time.perf_counter() - started, 1),
            **{m: round(v, 4) for m, v in means.items()}}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))

"""The embedder alone, in this process, on exactly the texts the platform embedded."""

from __future__ import annotations

import time
from typing import Any

from corpus import SyntheticDoc


def embedding_inputs(
    ready_docs: list[dict[str, Any]],
    chunks_by_doc: dict[str, list[dict[str, Any]]],
    synthetic: list[SyntheticDoc],
    title_prefix: bool,
) -> list[list[str]]:
    """Per document, the strings the pipeline sent to the embedder (title prefix included)."""
    titles = {d.filename: d.title for d in synthetic}
    inputs: list[list[str]] = []
    for doc in ready_docs:
        title = titles.get(doc["filename"])
        texts = []
        for chunk in chunks_by_doc[doc["id"]]:
            text = chunk["text"]
            if title and title_prefix and chunk["ordinal"] > 0:
                text = f"{title}\n{text}"
            texts.append(text)
        inputs.append(texts)
    return inputs


def extra_rows(database_url: str, document_ids: list[str]) -> dict[str, list[str]]:
    """Per document id, the texts of its rows that are not chunks (granularity 'document':
    the whole text, embedded as it is), which the chunk API does not list."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    out: dict[str, list[str]] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT document_id::text, text FROM chunks WHERE granularity <> 'chunk' "
                "AND document_id = ANY(CAST(:ids AS uuid[])) ORDER BY document_id, ordinal"
            ), {"ids": document_ids})
            for doc_id, text in rows:
                out.setdefault(str(doc_id), []).append(str(text))
    finally:
        engine.dispose()
    return out


def measure(per_doc: list[list[str]], rounds: int = 4, *, per_doc_calls: bool = True
            ) -> dict[str, Any]:
    """The embedder alone at its best: one bulk call per slice of the documents, timed both
    as `embed_documents` (each call's operators over all cores, as a query runs) and as
    `embed_bulk` (batches side by side, one core each, as the worker calls it), `bulk_call`
    being the faster; and one embed call per document (what a worker without batching across
    documents does; skipped when `per_doc_calls` is False)."""
    from app.core.config import get_settings
    from app.providers.embeddings import get_embedder

    settings = get_settings()
    start = time.perf_counter()
    embedder = get_embedder()
    flat = [t for texts in per_doc for t in texts]
    embedder.embed_documents(flat[: settings.embedding_batch_size])  # load + warm up
    embedder.embed_bulk(flat[: settings.embedding_batch_size])
    load_s = time.perf_counter() - start

    calls = {"per_doc": embedder.embed_documents, "embed_documents": embedder.embed_documents,
             "embed_bulk": embedder.embed_bulk}
    ways = [w for w in calls if per_doc_calls or w != "per_doc"]
    wall = dict.fromkeys(ways, 0.0)
    cpu = dict.fromkeys(ways, 0.0)
    # Interleave the ways, each round in the reverse order of the last, so that load drift
    # hits them alike.
    step = -(-len(per_doc) // rounds)
    for r, lo in enumerate(range(0, len(per_doc), step)):
        part = per_doc[lo : lo + step]
        for way in ways if r % 2 == 0 else ways[::-1]:
            start, cpu_start = time.perf_counter(), time.process_time()  # onnxruntime's too
            if way == "per_doc":
                for texts in part:
                    calls[way](texts)
            else:
                calls[way]([t for texts in part for t in texts])
            wall[way] += time.perf_counter() - start
            cpu[way] += time.process_time() - cpu_start

    docs, chunks = len(per_doc), len(flat)

    def rates(way: str) -> dict[str, Any]:
        return {"wall_s": round(wall[way], 3), "cpu_s": round(cpu[way], 3),
                "docs_per_s": round(docs / wall[way], 2),
                "chunks_per_s": round(chunks / wall[way], 2)}

    best = min(("embed_documents", "embed_bulk"), key=lambda w: wall[w])
    out: dict[str, Any] = {
        "embedder": f"{settings.embedding_provider}/{settings.embedding_runtime}/"
                    f"{embedder.model_name}",
        "batch_size": settings.embedding_batch_size,
        "docs": docs, "chunks": chunks, "load_and_warmup_s": round(load_s, 3),
        "bulk_call": {"way": best, **rates(best)},
        "bulk_ways": {w: rates(w) for w in ("embed_documents", "embed_bulk")},
    }
    if per_doc_calls:
        out["per_doc_calls"] = rates("per_doc")
    return out

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
    """Two timings: one embed call per document (what a worker without batching across
    documents does; skipped when `per_doc_calls` is False) and one bulk call per slice of the
    documents (the best batching can do)."""
    from app.core.config import get_settings
    from app.providers.embeddings import get_embedder

    settings = get_settings()
    start = time.perf_counter()
    embedder = get_embedder()
    flat = [t for texts in per_doc for t in texts]
    embedder.embed_documents(flat[: settings.embedding_batch_size])  # load + warm up
    load_s = time.perf_counter() - start

    # Interleave the two ways in ABBA rounds so that load drift hits both alike.
    per_doc_s = bulk_s = bulk_cpu_s = 0.0
    step = -(-len(per_doc) // rounds)
    for r, lo in enumerate(range(0, len(per_doc), step)):
        part = per_doc[lo : lo + step]
        ways = ("per_doc", "bulk") if r % 2 == 0 else ("bulk", "per_doc")
        for way in ways if per_doc_calls else ("bulk",):
            start = time.perf_counter()
            if way == "per_doc":
                for texts in part:
                    embedder.embed_documents(texts)
                per_doc_s += time.perf_counter() - start
            else:
                cpu = time.process_time()  # every thread of this process: onnxruntime's too
                embedder.embed_documents([t for texts in part for t in texts])
                bulk_s += time.perf_counter() - start
                bulk_cpu_s += time.process_time() - cpu

    docs, chunks = len(per_doc), len(flat)
    out: dict[str, Any] = {
        "embedder": f"{settings.embedding_provider}/{settings.embedding_runtime}/"
                    f"{embedder.model_name}",
        "batch_size": settings.embedding_batch_size,
        "docs": docs, "chunks": chunks, "load_and_warmup_s": round(load_s, 3),
        "bulk_call": {
            "wall_s": round(bulk_s, 3), "cpu_s": round(bulk_cpu_s, 3),
            "docs_per_s": round(docs / bulk_s, 2), "chunks_per_s": round(chunks / bulk_s, 2),
        },
    }
    if per_doc_calls:
        out["per_doc_calls"] = {
            "wall_s": round(per_doc_s, 3), "docs_per_s": round(docs / per_doc_s, 2),
            "chunks_per_s": round(chunks / per_doc_s, 2),
        }
    return out

"""The LlamaIndex side of `make bench-compare`, run by bench/compare.py as a subprocess in its
own venv (bench/.venv-compare: llama-index-vector-stores-postgres needs SQLAlchemy < 2.1, the
backend pins 2.1). It never imports `app`.

    python bench/compare_llamaindex.py INPUT.json   (stdin/stdout: JSON lines, see main)

INPUT (written by compare.py): the documents, the Postgres URLs of a database of its own in
the same server as Cairn's, the ONNX graph and tokenizer Cairn's worker uses, and the shared
settings (chunk size and overlap, batch size, max tokens, k).

The pipeline is the one LlamaIndex documents for Postgres: Documents → IngestionPipeline
(SentenceSplitter, the embed model) → PGVectorStore (HNSW, hybrid_search=True for its
tsvector column) → VectorStoreIndex.from_vector_store → retrievers. The embed model is a small
BaseEmbedding over the very ONNX graph and tokenizer Cairn runs (same session options, same
truncation, mean pooling and normalisation as app/providers/embeddings/onnx.py), so both sides
embed with the same model and the same runtime: the comparison is of the pipelines.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import onnxruntime as ort
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.vector_stores.postgres import PGVectorStore
from proc_cpu import tree_cpu_s
from pydantic import PrivateAttr
from tokenizers import Tokenizer


class OnnxMiniLM(BaseEmbedding):
    """all-MiniLM-L6-v2 on onnxruntime, exactly as Cairn's OnnxEmbedder runs it; one ONNX run
    per batch LlamaIndex hands over (embed_batch_size), no reordering of its own."""

    _session: Any = PrivateAttr()
    _tok: Any = PrivateAttr()
    _busy_s: float = PrivateAttr(default=0.0)

    def __init__(self, onnx_path: str, tokenizer_path: str, max_tokens: int, **kw: Any) -> None:
        super().__init__(model_name="all-MiniLM-L6-v2", **kw)
        tok = Tokenizer.from_file(tokenizer_path)
        tok.enable_truncation(max_tokens)
        tok.enable_padding()
        self._tok = tok
        options = ort.SessionOptions()
        options.intra_op_num_threads = 0
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(onnx_path, options,
                                             providers=["CPUExecutionProvider"])

    def _run(self, texts: list[str]) -> list[list[float]]:
        start = time.perf_counter()
        enc = self._tok.encode_batch(texts)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        self._busy_s += time.perf_counter() - start
        return pooled.tolist()  # type: ignore[no-any-return]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._run([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._run([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._run(list(texts))


def answer(retriever: Any, text: str, k_docs: int) -> dict[str, Any]:
    """One retrieval, timed in-process; chunk hits collapsed to their document, first k."""
    start = time.perf_counter()
    nodes = retriever.retrieve(text)
    ms = (time.perf_counter() - start) * 1000
    ranking: list[str] = []
    for hit in nodes:
        doc = hit.node.ref_doc_id
        if doc and doc not in ranking:
            ranking.append(doc)
    return {"ranking": ranking[:k_docs], "ms": ms}


def main(input_path: str) -> int:
    """Ingest, print the ingest figures as one JSON line on stdout, then answer queries: one
    JSON line in ({"mode", "query"}) gives one JSON line out, until stdin closes. The parent
    interleaves these with Cairn's queries so load drift hits both sides alike."""
    protocol = sys.stdout
    sys.stdout = sys.stderr  # nothing but the protocol on the real stdout
    cfg = json.loads(Path(input_path).read_text())
    Settings.llm = MockLLM()  # no LLM anywhere: retrieval only (QueryFusionRetriever asks)
    embed = OnnxMiniLM(cfg["onnx_path"], cfg["tokenizer_path"], cfg["max_tokens"],
                       embed_batch_size=cfg["batch_size"])
    Settings.embed_model = embed
    embed.get_text_embedding_batch(["warm-up"] * cfg["batch_size"])  # load, as Cairn's worker
    embed._busy_s = 0.0
    hnsw = {"hnsw_m": 16, "hnsw_ef_construction": 128, "hnsw_ef_search": cfg["ef_search"],
            "hnsw_dist_method": "vector_cosine_ops"}  # Cairn's index (migration 0001)
    store = PGVectorStore.from_params(
        connection_string=cfg["pg_url"], async_connection_string=cfg["pg_async_url"],
        table_name="scifact", embed_dim=384, hybrid_search=True, text_search_config="english",
        hnsw_kwargs=hnsw,
    )
    store._initialize()  # table + HNSW index before the clock, as Cairn's migrations
    splitter = SentenceSplitter(
        chunk_size=cfg["chunk_size"], chunk_overlap=cfg["chunk_overlap"],
        tokenizer=_token_ids(cfg["tokenizer_path"]),
    )
    docs = [Document(text=d["text"], id_=d["id"]) for d in cfg["documents"]]
    pipeline = IngestionPipeline(transformations=[splitter, embed], vector_store=store)
    print(f"llamaindex: ingesting {len(docs)} docs ...", file=sys.stderr, flush=True)
    pg_cpu, own_cpu = tree_cpu_s(cfg["postmaster_pid"]), time.process_time()
    start = time.perf_counter()
    nodes = pipeline.run(documents=docs)
    wall = time.perf_counter() - start
    parts = {"process": round(time.process_time() - own_cpu, 1),
             "postgres": round(tree_cpu_s(cfg["postmaster_pid"]) - pg_cpu, 1)}
    cpu = sum(parts.values())
    count = _token_ids(cfg["tokenizer_path"])
    tokens = sum(len(count(n.get_content())) for n in nodes) / max(1, len(nodes))
    ingest = {"docs": len(docs), "chunks": len(nodes), "wall_s": round(wall, 2),
              "tokens_per_chunk": round(tokens, 1),
              "docs_per_s": round(len(docs) / wall, 2),
              "chunks_per_s": round(len(nodes) / wall, 1),
              "embed_s": round(embed._busy_s, 2), "cpu_s": round(cpu, 1),
              "cpu_parts_s": parts,
              "chunks_per_cpu_s": round(len(nodes) / cpu, 1)}
    print(f"llamaindex: {wall:.1f}s, {len(nodes)} chunks", file=sys.stderr, flush=True)

    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    top = cfg["chunks_per_query"]
    dense = index.as_retriever(similarity_top_k=top)
    sparse = index.as_retriever(vector_store_query_mode="sparse", similarity_top_k=top)
    retrievers = {
        "dense": dense,
        # PGVectorStore's own hybrid: the dense hits, then the text-search hits not among them
        "hybrid_union": index.as_retriever(vector_store_query_mode="hybrid",
                                           similarity_top_k=top, sparse_top_k=top),
        # the fused hybrid LlamaIndex documents for pgvector: both lists, reciprocal rank
        "hybrid_rrf": QueryFusionRetriever([dense, sparse], similarity_top_k=top,
                                           num_queries=1, mode="reciprocal_rerank",
                                           use_async=False),
    }
    print(json.dumps({"ingest": ingest, "modes": list(retrievers)}), file=protocol, flush=True)
    for line in sys.stdin:
        ask = json.loads(line)
        reply = answer(retrievers[ask["mode"]], ask["query"], cfg["k"])
        print(json.dumps(reply), file=protocol, flush=True)
    return 0


def _token_ids(tokenizer_path: str) -> Any:
    """The MiniLM tokenizer counting as Cairn's chunker does (no special tokens, no limit)."""
    tok = Tokenizer.from_file(tokenizer_path)
    tok.no_truncation()
    tok.no_padding()
    return lambda text: tok.encode(text, add_special_tokens=False).ids


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

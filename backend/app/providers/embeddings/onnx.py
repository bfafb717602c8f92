"""Local embedder: ONNX graph on onnxruntime + Hugging Face `tokenizers`, mean pooling."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from app.providers.embeddings.base import Embedder, EmbeddingError
from app.providers.embeddings.local_model import DIMS, export_onnx, package_model_dir


class OnnxEmbedder(Embedder):
    def __init__(
        self, model: str, models_dir: Path, *, batch_size: int, max_tokens: int,
        batch_tokens: int = 0,
    ) -> None:
        self.model_name = model
        self.dim = DIMS[model]
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.max_tokens = max_tokens
        self.window_tokens = max(1, max_tokens - 2)  # [CLS] and [SEP]
        model_dir = package_model_dir(model)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._batch_tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._batch_tok.enable_truncation(max_tokens)
        # no padding here: each batch is padded to its own longest text in _run (padding by
        # the tokenizer would pad every text to the longest of the whole call)
        self._batch_tok.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 0  # onnxruntime picks the physical cores
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between runs: a spinning thread steals the core Postgres needs for
        # the search's SQL right after the query is embedded (measured on 2 shared cores: a
        # 1,000-character query embedded in 135 ms instead of 237 ms).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(export_onnx(model, models_dir)), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]] | None:
        return list(self.tokenizer.encode(text, add_special_tokens=False).offsets)

    def _run(self, ids_list: Sequence[Sequence[int]]) -> np.ndarray:
        """Vectors of one batch of token ids (with their special tokens), padded to its
        longest."""
        width = max(len(ids) for ids in ids_list)
        ids = np.zeros((len(ids_list), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros_like(ids)
        for row, seq in enumerate(ids_list):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        with self._lock:
            hidden = self.session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)  # type: ignore[no-any-return]

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indexes of the texts (by token length) in the order and groups they are run:
        shortest first, each batch at most EMBEDDING_BATCH_SIZE texts and, when
        EMBEDDING_BATCH_TOKENS is set, at most that many padded tokens (texts x its longest
        length; a longer text runs alone)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        out: list[list[int]] = []
        for i in order:
            if out:
                batch = out[-1]
                padded = (len(batch) + 1) * lengths[i]  # sorted: this text is the longest
                if len(batch) < self.batch_size and (
                    self.batch_tokens <= 0 or padded <= self.batch_tokens
                ):
                    batch.append(i)
                    continue
            out.append([i])
        return out

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        out: list[list[float]] = [[] for _ in texts]
        try:
            ids = [e.ids for e in self._batch_tok.encode_batch(list(texts))]
            # by length, so each batch pads little (a large speed-up on mixed input)
            for idx in self.batches([len(seq) for seq in ids]):
                vectors = self._run([ids[i] for i in idx])
                for i, vec in zip(idx, vectors, strict=True):
                    out[i] = vec.tolist()
        except Exception as exc:  # onnxruntime raises its own types
            raise EmbeddingError(f"local embedding failed: {exc}") from exc
        return out

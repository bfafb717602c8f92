"""Local embedder on sentence-transformers + torch (EMBEDDING_RUNTIME=torch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from app.providers.embeddings.base import Embedder, EmbeddingError
from app.providers.embeddings.local_model import DIMS, QUANTIZED, package_model_dir


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str, *, batch_size: int, max_tokens: int) -> None:
        if model in QUANTIZED:
            raise EmbeddingError(
                f"{model} is an int8 ONNX model: it runs with EMBEDDING_RUNTIME=onnx"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        self.dim = DIMS[model]
        self.batch_size = batch_size
        self.st: Any = SentenceTransformer(str(package_model_dir(model)), device="cpu")
        self.st.max_seq_length = max_tokens
        self.window_tokens = max(1, max_tokens - 2)  # [CLS] and [SEP]

    def count_tokens(self, text: str) -> int:
        return len(self.st.tokenizer.encode(text, add_special_tokens=False))

    def token_offsets(self, text: str) -> list[tuple[int, int]] | None:
        enc = self.st.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            vecs = self.st.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True
            )
        except Exception as exc:
            raise EmbeddingError(f"local embedding failed: {exc}") from exc
        return [v.tolist() for v in vecs]

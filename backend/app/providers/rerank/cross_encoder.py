"""A sentence-transformers CrossEncoder loaded from a local directory (nothing downloads)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.providers.rerank.base import Reranker, RerankerConfigError


class CrossEncoderReranker(Reranker):
    name = "cross-encoder"

    def __init__(self, model_path: Path, *, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise RerankerConfigError(
                "RERANKER=cross-encoder needs the sentence-transformers package."
            ) from exc
        try:
            self._model: Any = CrossEncoder(str(model_path), local_files_only=True)
        except Exception as exc:
            raise RerankerConfigError(
                f"RERANKER_MODEL={model_path} could not be loaded as a cross-encoder: {exc}"
            ) from exc
        self._batch_size = batch_size

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scores = self._model.predict(
            [(query, t) for t in texts], batch_size=self._batch_size, show_progress_bar=False
        )
        return [float(s) for s in scores]

